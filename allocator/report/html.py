"""Render a ``Page`` as one self-contained HTML file: styles and the one small script inline, charts as inline SVG.

Nothing is fetched: a Content-Security-Policy allows no source but the page itself, so the file opens the same from
disk or an e-mail attachment, with no network. Tables are semantic (``caption``, ``th`` with ``scope``), numbers
right-aligned with their units in the caption or the cell (``%``), each numeric cell carrying its value
(``data-value``, what the sort uses) and the file and key it was read from (``data-source``). Sortable tables sort
by a click on (or Enter on) a column's button, announcing the order with ``aria-sort``. The print stylesheet fits
A4 and Letter (12 mm margins; charts scale to the width; headers repeat on each page; the contents and the sort
buttons are left off).
"""

from __future__ import annotations

from html import escape

from allocator.report.page import Block, Cell, Facts, Figure, Page, Section, Table, Text

STYLE = """
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --band: #f6f8fa; --accent: #2f5f98; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); margin: 0 auto; padding: 1.5rem; max-width: 1180px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.subtitle { color: var(--muted); margin: 0 0 .8rem; }
nav ol { columns: 3; margin: .4rem 0 1rem; padding-left: 1.4rem; }
nav a { color: var(--accent); }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-variant-numeric: tabular-nums; width: auto;
  max-width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; color: var(--muted); caption-side: top; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .55rem; vertical-align: top; text-align: left; }
thead th { background: var(--band); border-bottom: 2px solid var(--line); white-space: nowrap; }
tbody tr:nth-child(even) { background: #fbfcfd; }
td.num, th.num { text-align: right; white-space: nowrap; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer;
  color: inherit; text-align: inherit; }
th button::after { content: " \\2195"; color: var(--muted); font-size: .8em; }
th[aria-sort="ascending"] button::after { content: " \\2191"; }
th[aria-sort="descending"] button::after { content: " \\2193"; }
th button:focus-visible { outline: 2px solid var(--accent); }
figure { margin: .6rem 0 1rem; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .9em; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .3rem 1.2rem;
  margin: .5rem 0 1rem; }
dl.facts div { border-left: 3px solid var(--line); padding-left: .5rem; }
dt { color: var(--muted); font-size: .85em; }
dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.emphasis { border-left: 4px solid #e15759; padding: .3rem .7rem; background: #fdf3f3; }
code, .digest { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
@page { margin: 12mm; }
@media print {
  body { font-size: 8.5pt; max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; margin-top: 1.2rem; }
  figure, dl.facts, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  table { width: 100%; }
  th, td { padding: .15rem .3rem; overflow-wrap: anywhere; }
  thead th, td.num { white-space: normal; }
  th button::after { content: none; }
  tbody tr:nth-child(even) { background: none; }
  a { color: inherit; text-decoration: none; }
}
"""

SCRIPT = """
(function () {
  function key(cell) {
    var value = cell.getAttribute("data-value");
    return value === null ? null : parseFloat(value);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (head, column) {
      var button = head.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var ascending = head.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
        head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column], y = b.cells[column];
          var kx = key(x), ky = key(y);
          var order = (kx !== null && ky !== null) ? kx - ky : x.textContent.localeCompare(y.textContent);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
"""

POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _attributes(cell: Cell, numeric_column: bool = False) -> str:
    found = ' class="num"' if cell.value is not None or numeric_column else ""
    if cell.value is not None:
        found += f' data-value="{cell.value!r}"'
    if cell.source:
        found += f' data-source="{escape(cell.source)}"'
    return found


def _table(table: Table) -> str:
    numeric = [any(row[i].numeric for row in table.rows) for i in range(len(table.header))]
    classes = ' class="sortable"' if table.sortable else ""
    heads = []
    for i, label in enumerate(table.header):
        content = f'<button type="button">{escape(label)}</button>' if table.sortable else escape(label)
        sort = ' aria-sort="none"' if table.sortable else ""
        align = ' class="num"' if numeric[i] else ""
        heads.append(f'<th scope="col"{align}{sort}>{content}</th>')
    body = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            tag = "th" if i == 0 and table.row_header else "td"
            scope = ' scope="row"' if tag == "th" else ""
            cells.append(f"<{tag}{scope}{_attributes(cell, numeric[i])}>{escape(cell.text)}</{tag}>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<table{classes}><caption>{escape(table.caption)}</caption><thead><tr>{''.join(heads)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _facts(facts: Facts) -> str:
    items = "".join(f"<div><dt>{escape(label)}</dt><dd{_attributes(cell)}>{escape(cell.text)}</dd></div>"
                    for label, cell in facts.items)
    return f'<dl class="facts">{items}</dl>'


def _text(block: Text) -> str:
    css = ' class="emphasis"' if block.emphasis else ""
    if len(block.lines) == 1:
        return f"<p{css}>{escape(block.lines[0])}</p>"
    tag = "ol" if block.ordered else "ul"
    return f"<{tag}{css}>{''.join(f'<li>{escape(line)}</li>' for line in block.lines)}</{tag}>"


def _block(block: Block) -> str:
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return f"<figure>{block.svg}<figcaption>{escape(block.caption)}</figcaption></figure>"
    if isinstance(block, Facts):
        return _facts(block)
    return _text(block)


def _section(section: Section) -> str:
    body = "".join(_block(b) for b in section.blocks)
    return (f'<section id="{escape(section.key)}" aria-labelledby="{escape(section.key)}-heading">'
            f'<h2 id="{escape(section.key)}-heading">{escape(section.title)}</h2>{body}</section>')


def page_html(page: Page) -> bytes:
    """The page as a complete HTML document (UTF-8 bytes)."""
    contents = "".join(f'<li><a href="#{escape(s.key)}">{escape(s.title)}</a></li>' for s in page.sections)
    sections = "\n".join(_section(s) for s in page.sections)
    document = (
        "<!DOCTYPE html>\n"
        f'<html lang="en" data-kind="{escape(page.kind)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="allocate report">\n'
        f"<title>{escape(page.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header><h1>{escape(page.title)}</h1><p class="subtitle">{escape(page.subtitle)}</p></header>\n'
        f'<nav aria-label="Contents"><ol>{contents}</ol></nav>\n<main>\n{sections}\n</main>\n'
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n")
    return document.encode("utf-8")
