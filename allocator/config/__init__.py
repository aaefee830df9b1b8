"""Configuration: a YAML file and the chain it ``extends`` -> one validated, frozen ``Config``.

- ``loader``: ``load_config`` -> ``LoadedConfig`` (the ``Config``, its file and ``extends`` chain, the notes for the
  manifest);
- ``schema``: ``Config`` and its sections (``ReturnsConfig``, ``RiskConfig``, ``RsiConfig``, ``TradingConfig``,
  ``SolverConfig``, ``OrdersConfig`` ...) with their choices as enums, and ``SIGNALS``, the signal names.

Units as in the YAML: weights and rates are fractions (0.05 = 5%), returns and volatilities annualized, money in
the account currency; paths are absolute once loaded (relative to the file that names them).

The names below load on first use: the loader needs PyYAML, which ``allocate export`` and ``send`` import only when
given a config (``-c``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.config.loader import LoadedConfig, load_config
    from allocator.config.schema import (
        SIGNALS,
        AlphaRisk,
        Config,
        FixDelimiter,
        GapPolicy,
        GroupRelativeTo,
        GrowthRegime,
        HoldingsColumns,
        IdScheme,
        MacroConfig,
        OrdersConfig,
        OrderType,
        OutputFormat,
        OutsidePolicy,
        PriorKind,
        RatePath,
        ReturnsConfig,
        RiskConfig,
        RiskFormulation,
        RiskModelKind,
        RsiConfig,
        SolverConfig,
        SolverName,
        TimeInForce,
        TradingConfig,
    )

MODULES = {"LoadedConfig": "loader", "load_config": "loader",
           **{name: "schema" for name in (
               "SIGNALS", "AlphaRisk", "Config", "FixDelimiter", "GapPolicy", "GroupRelativeTo", "GrowthRegime",
               "HoldingsColumns", "IdScheme", "MacroConfig", "OrderType", "OrdersConfig", "OutputFormat",
               "OutsidePolicy", "PriorKind", "RatePath", "ReturnsConfig", "RiskConfig", "RiskFormulation",
               "RiskModelKind", "RsiConfig", "SolverConfig", "SolverName", "TimeInForce", "TradingConfig")}}
__all__ = ["SIGNALS", "AlphaRisk", "Config", "FixDelimiter", "GapPolicy", "GroupRelativeTo", "GrowthRegime",
           "HoldingsColumns", "IdScheme", "LoadedConfig", "MacroConfig", "OrderType", "OrdersConfig", "OutputFormat",
           "OutsidePolicy", "PriorKind", "RatePath", "ReturnsConfig", "RiskConfig", "RiskFormulation",
           "RiskModelKind", "RsiConfig", "SolverConfig", "SolverName", "TimeInForce", "TradingConfig", "load_config"]


__getattr__ = lazy_attributes(__name__, MODULES)
