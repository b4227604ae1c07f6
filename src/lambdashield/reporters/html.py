"""`--format html`: one self-contained page to read and share.

The page holds a summary, the risk picture of every function, the findings (each with its
code and its fix) with filters by severity, rule and function, the errors, and the pages
of the rules that fired. Styles and the small filtering script are inline; a
`Content-Security-Policy` forbids every network request, so the file works offline and
cannot leak what it shows. Everything from the scanned project is escaped.

The code comes from `ScanReport.snippets`, read by the engine: reporters never read files.
Output is byte-stable: no timestamps, and everything in the report's order.
"""

from __future__ import annotations

import re
from collections import Counter
from html import escape

from lambdashield.model import Finding, FunctionRisk, RuleMeta, ScanReport, Severity
from lambdashield.reporters._risk import location, permission_summary
from lambdashield.reporters.rule_docs import cwe_url

__all__ = ["HtmlReporter", "markdown_to_html"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
_DESCENDING = sorted(Severity, key=lambda s: s.rank, reverse=True)
_CONTEXT = 2
_NOTHING = '<span class="muted">-</span>'
_MAX_FINDING_LINES = 8


class HtmlReporter:
    def render(self, report: ScanReport) -> str:
        return _Page(report).render()


def _e(text: object) -> str:
    return escape(str(text), quote=True)


class _Page:
    def __init__(self, report: ScanReport) -> None:
        self.report = report
        self.lines: dict[str, dict[int, str]] = {
            snippet.path.as_posix(): dict(snippet.lines) for snippet in report.snippets
        }
        self.fixes: dict[str, str] = {}

    def render(self) -> str:
        report = self.report
        out: list[str] = [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            '<meta name="referrer" content="no-referrer">\n',
            "<title>lambdashield report</title>\n<style>\n",
            _CSS,
            "</style>\n</head>\n<body>\n<header>\n<h1>lambdashield report</h1>\n",
        ]
        if report.version:
            out.append(f'<p class="muted">lambdashield {_e(report.version)}</p>\n')
        out.append("</header>\n<main>\n")
        out.append(self._summary())
        out.append(self._risks())
        out.append(self._findings())
        out.append(self._errors())
        out.append(self._rules())
        out.append("</main>\n<script>\n")
        out.append(_JS)
        out.append("</script>\n</body>\n</html>\n")
        return "".join(out)

    # --- summary ------------------------------------------------------------------------

    def _summary(self) -> str:
        report = self.report
        counts = report.findings_by_severity()
        cells = [
            _stat("findings", "Findings", len(report.findings)),
            *(
                _stat(s.label, s.label.title(), counts.get(s.label, 0), f"sev-{s.label}")
                for s in _DESCENDING
            ),
            _stat("files", "Files", report.files),
            _stat("functions", "Functions", report.functions),
            _stat("suppressed", "Suppressed", report.suppressed),
            _stat("baselined", "Baselined", report.baselined),
            _stat("errors", "Errors", len(report.errors)),
            _stat("not-analysed", "Not analysed", len(report.not_analysed)),
        ]
        return (
            '<section id="summary" aria-label="Summary">\n<h2>Summary</h2>\n'
            f'<dl class="stats">\n{"".join(cells)}</dl>\n</section>\n'
        )

    # --- risk picture -------------------------------------------------------------------

    def _risks(self) -> str:
        risks = self.report.function_risks
        if not risks:
            return ""
        rows = "".join(_risk_row(risk) for risk in risks)
        return (
            '<section id="functions">\n<h2>Functions by attack path score</h2>\n'
            '<p class="muted">Score 0-99: 25 for each link of an attack path that holds '
            "(reachable from the internet, privileged, a dangerous sink or a secret) plus up "
            "to 24 for how strongly. Select a function to filter the findings.</p>\n"
            '<div class="scroll"><table class="risks">\n<thead><tr><th>Score</th>'
            "<th>Function</th><th>Entry points</th><th>Permissions</th><th>Secrets</th>"
            "<th>Runtime</th><th>Findings</th><th>Attack path</th></tr></thead>\n"
            f"<tbody>\n{rows}</tbody>\n</table></div>\n"
            "</section>\n"
        )

    # --- findings -----------------------------------------------------------------------

    def _findings(self) -> str:
        findings = self.report.findings
        total = len(findings)
        if not findings:
            return (
                '<section id="findings">\n<h2>Findings</h2>\n'
                '<p class="ok">No findings.</p>\n</section>\n'
            )
        by_rule = Counter(f.rule.id for f in findings)
        titles = {f.rule.id: f.rule.title for f in findings}
        by_resource = Counter(f.resource for f in findings)
        severity_counts = Counter(f.severity.label for f in findings)
        severity_options = "".join(
            f'<option value="{s.label}">{s.label.title()} ({severity_counts[s.label]})</option>'
            for s in _DESCENDING
            if severity_counts[s.label]
        )
        rule_options = "".join(
            f'<option value="{_e(rule_id)}">{_e(rule_id)} {_e(titles[rule_id])} ({count})</option>'
            for rule_id, count in sorted(by_rule.items())
        )
        resource_options = "".join(
            f'<option value="{_e(name)}">{_e(name)} ({count})</option>'
            for name, count in sorted(by_resource.items())
        )
        articles = "".join(self._finding(index, f) for index, f in enumerate(findings))
        return (
            '<section id="findings">\n<h2>Findings</h2>\n'
            '<form id="filters" class="filters">\n'
            '<label>Severity <select id="filter-severity"><option value="">all</option>'
            f"{severity_options}</select></label>\n"
            '<label>Rule <select id="filter-rule"><option value="">all</option>'
            f"{rule_options}</select></label>\n"
            '<label>Function or resource <select id="filter-function">'
            f'<option value="">all</option>{resource_options}</select></label>\n'
            '<button type="button" id="filter-reset">Show all</button>\n'
            f'<output id="shown" aria-live="polite">Showing <span id="shown-count">{total}'
            f'</span> of <span id="shown-total">{total}</span> findings</output>\n'
            f'</form>\n<div id="finding-list">\n{articles}</div>\n</section>\n'
        )

    def _finding(self, index: int, finding: Finding) -> str:
        rule = finding.rule
        where = _where(finding)
        severity = finding.severity.label
        return (
            f'<article class="finding" id="finding-{index + 1}" data-severity="{severity}" '
            f'data-rule="{_e(rule.id)}" data-function="{_e(finding.resource)}">\n'
            f'<h3><span class="badge sev-{severity}">{severity}</span> '
            f'<a href="#rule-{_e(rule.id)}">{_e(rule.id)}</a> {_e(rule.title)}</h3>\n'
            f'<p class="where"><code>{_e(where)}</code> · {_e(finding.resource)} '
            f'<span class="muted">({_e(finding.resource_type)}, confidence '
            f"{_e(finding.confidence.value)})</span></p>\n"
            f'<p class="message">{_inline(finding.message)}</p>\n'
            f"{self._snippet(finding)}"
            f'<details class="fix"><summary>Fix</summary>\n{self._fix(rule)}</details>\n'
            "</article>\n"
        )

    def _snippet(self, finding: Finding) -> str:
        start = finding.location.start_line
        lines = self.lines.get(finding.location.path.as_posix())
        if start is None or not lines:
            return ""
        end = max(finding.location.end_line or start, start)
        last = min(end, start + _MAX_FINDING_LINES - 1)
        shown = [n for n in range(max(1, start - _CONTEXT), last + _CONTEXT + 1) if n in lines]
        if not shown:
            return ""
        rows = "".join(
            f'<span class="line{" hit" if start <= n <= end else ""}">'
            f'<span class="ln">{n}</span>{_e(lines[n])}\n</span>'
            for n in shown
        )
        return f'<pre class="snippet"><code>{rows}</code></pre>\n'

    def _fix(self, rule: RuleMeta) -> str:
        found = self.fixes.get(rule.id)
        if found is None:
            found = markdown_to_html(rule.fix)
            self.fixes[rule.id] = found
        return found

    # --- errors and skipped inputs ------------------------------------------------------

    def _errors(self) -> str:
        report = self.report
        out = []
        if report.errors:
            items = "".join(
                f"<li><code>{_e(e.path.as_posix())}"
                f"{_e(f':{e.line}') if e.line is not None else ''}</code>: {_e(e.message)}</li>\n"
                for e in report.errors
            )
            out.append(
                '<section id="errors">\n<h2>Errors</h2>\n<p>Inputs that should have been '
                f"analysed and could not be:</p>\n<ul>\n{items}</ul>\n</section>\n"
            )
        if report.not_analysed:
            items = "".join(
                f"<li><code>{_e(s.path.as_posix())}</code>: {_e(s.reason)}</li>\n"
                for s in report.not_analysed
            )
            out.append(
                f'<section id="not-analysed">\n<h2>Not analysed</h2>\n<ul>\n{items}</ul>\n'
                "</section>\n"
            )
        return "".join(out)

    # --- rule pages ---------------------------------------------------------------------

    def _rules(self) -> str:
        fired = {f.rule.id: f.rule for f in self.report.findings}
        if not fired:
            return ""
        pages = "".join(_rule_page(fired[rule_id]) for rule_id in sorted(fired))
        return f'<section id="rules">\n<h2>Rules</h2>\n{pages}</section>\n'


def _stat(key: str, label: str, count: int, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return (
        f'<div{klass}><dt>{_e(label)}</dt><dd id="count-{key}" data-count="{count}">'
        f"{count:,}</dd></div>\n"
    )


def _risk_row(risk: FunctionRisk) -> str:
    entries = (
        "".join(f"<li>{_e(entry)}</li>" for entry in risk.entry_points)
        or '<li class="muted">none known</li>'
    )
    runtime = (
        f'{_e(risk.runtime)} <span class="muted">({_e(risk.runtime_status)})</span>'
        if risk.runtime
        else '<span class="muted">unknown</span>'
    )
    steps = "".join(f"<li>{_e(step)}</li>" for step in risk.attack_path)
    path = f"<ol>{steps}</ol>" if steps else _NOTHING
    level = "high" if risk.score >= 75 else "medium" if risk.score >= 50 else "low"
    public = ' <span class="badge sev-critical">internet</span>' if risk.internet_reachable else ""
    return (
        f'<tr data-function="{_e(risk.function)}"><td><span class="score score-{level}">'
        f"{risk.score}</span></td>"
        f'<td><button type="button" class="pick" data-function="{_e(risk.function)}">'
        f"{_e(risk.function)}</button>{public}<br><code>{_e(location(risk))}</code></td>"
        f"<td><ul>{entries}</ul></td>"
        f"<td>{_e(permission_summary(risk)) or _NOTHING}</td>"
        f"<td>{_e(', '.join(risk.secrets)) or _NOTHING}</td>"
        f"<td>{runtime}</td>"
        f'<td class="counts">{risk.findings} in all<br>{risk.vulnerable_dependencies} '
        f"vulnerable deps<br>{risk.code_findings} in code</td><td>{path}</td></tr>\n"
    )


def _where(finding: Finding) -> str:
    loc = finding.location
    path = loc.path.as_posix()
    if loc.start_line is not None:
        return f"{path}:{loc.start_line}"
    return f"{path}#{loc.pointer}" if loc.pointer else path


def _rule_page(meta: RuleMeta) -> str:
    tags = ", ".join(f"<code>{_e(tag)}</code>" for tag in meta.tags)
    cwe = (
        f'<a href="{_e(cwe_url(meta.cwe))}" rel="noreferrer">CWE-{meta.cwe}</a>'
        if meta.cwe > 0
        else "-"
    )
    return (
        f'<article class="rule" id="rule-{_e(meta.id)}">\n'
        f'<h3>{_e(meta.id)}: {_e(meta.title)}</h3>\n<ul class="meta">'
        f"<li>Name: <code>{_e(meta.name)}</code></li>"
        f'<li>Severity: <span class="badge sev-{meta.severity.label}">'
        f"{meta.severity.label}</span></li>"
        f"<li>Confidence: {_e(meta.confidence.value)}</li><li>CWE: {cwe}</li>"
        f"<li>Tags: {tags}</li><li>Since: {_e(meta.since)}</li>"
        f"<li>Lifecycle: {_e(meta.lifecycle.value)}</li></ul>\n"
        f"{markdown_to_html(meta.summary)}<h4>Why it matters</h4>\n"
        f"{markdown_to_html(meta.why)}<h4>Fix</h4>\n{markdown_to_html(meta.fix)}</article>\n"
    )


# --- Markdown of the rule docs ----------------------------------------------------------

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s+")


def markdown_to_html(text: str) -> str:
    """The Markdown the rule docstrings use, as HTML: paragraphs, `-` and numbered lists,
    fenced code, code spans, links and bold. Everything is escaped first."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[list[str]] = []
    ordered = False
    fence: list[str] | None = None

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>\n")
            paragraph.clear()
        if items:
            tag = "ol" if ordered else "ul"
            body = "".join(f"<li>{_inline(' '.join(item))}</li>" for item in items)
            out.append(f"<{tag}>{body}</{tag}>\n")
            items.clear()

    for raw in text.strip().splitlines():
        line = raw.rstrip()
        if fence is not None:
            if line.strip().startswith("```"):
                out.append(f"<pre><code>{_e(chr(10).join(fence))}</code></pre>\n")
                fence = None
            else:
                fence.append(line)
            continue
        if line.strip().startswith("```"):
            flush()
            fence = []
        elif not line.strip():
            flush()
        elif _ITEM.match(line):
            if paragraph:
                flush()
            if not items:
                ordered = line.strip()[0].isdigit()
            items.append([_ITEM.sub("", line)])
        elif items and raw[:1].isspace():
            items[-1].append(line.strip())
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    if fence is not None:
        out.append(f"<pre><code>{_e(chr(10).join(fence))}</code></pre>\n")
    flush()
    return "".join(out)


def _inline(text: str) -> str:
    """Escaped text with code spans, links (http, https or same-page only) and bold."""
    out = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_prose(text[last : match.start()]))
        out.append(f"<code>{_e(match.group(1))}</code>")
        last = match.end()
    out.append(_prose(text[last:]))
    return "".join(out)


def _prose(text: str) -> str:
    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        if not url.startswith(("https://", "http://", "#")):
            return _e(match.group(0))
        return f'<a href="{_e(url)}" rel="noreferrer">{_e(label)}</a>'

    out = []
    last = 0
    for match in _LINK.finditer(text):
        out.append(_bold(text[last : match.start()]))
        out.append(link(match))
        last = match.end()
    out.append(_bold(text[last:]))
    return "".join(out)


def _bold(text: str) -> str:
    return _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", _e(text))


_CSS = """\
:root { color-scheme: light dark; --bg: #fff; --fg: #1f2328; --muted: #59636e;
  --line: #d1d9e0; --code: #f6f8fa; --hit: #fff8c5; --accent: #0969da; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d;
    --code: #151b23; --hit: #3b2e00; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
header, main { max-width: 1400px; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; }
h1 { margin: 0.5rem 0 0; font-size: 1.6rem; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: 0.3rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 0 0 0.4rem; }
a { color: var(--accent); }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.muted { color: var(--muted); }
.ok { color: #1a7f37; font-weight: 600; }
.stats { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0; }
.stats div { border: 1px solid var(--line); border-radius: 6px; padding: 0.4rem 0.8rem;
  min-width: 7rem; }
.stats dt { font-size: 0.8rem; color: var(--muted); }
.stats dd { margin: 0; font-size: 1.4rem; font-weight: 600; }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 1rem; font-size: 0.75rem;
  font-weight: 600; text-transform: uppercase; color: #fff; vertical-align: middle; }
.sev-critical .badge, .badge.sev-critical { background: #a40e26; }
.badge.sev-high { background: #cf222e; }
.badge.sev-medium { background: #9a6700; }
.badge.sev-low { background: #0969da; }
.stats .sev-critical dd { color: #cf222e; } .stats .sev-high dd { color: #d1242f; }
.stats .sev-medium dd { color: #9a6700; } .stats .sev-low dd { color: #0969da; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border: 1px solid var(--line); padding: 0.35rem 0.5rem; text-align: left;
  vertical-align: top; }
td ul, td ol { margin: 0; padding-left: 1.1rem; }
td.counts { white-space: nowrap; }
.score { font-weight: 700; font-size: 1.1rem; }
.score-high { color: #cf222e; } .score-medium { color: #9a6700; }
button { font: inherit; cursor: pointer; }
button.pick { background: none; border: none; padding: 0; color: var(--accent);
  text-decoration: underline; font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center;
  position: sticky; top: 0; background: var(--bg); padding: 0.5rem 0; z-index: 1;
  border-bottom: 1px solid var(--line); }
.filters select { font: inherit; max-width: 22rem; }
.finding { border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem;
  margin: 0.75rem 0; }
.finding[hidden] { display: none; }
.where { margin: 0; }
.message { margin: 0.4rem 0; }
.snippet { background: var(--code); border-radius: 6px; padding: 0.5rem 0; overflow-x: auto;
  margin: 0.5rem 0; }
.snippet .line { display: block; padding: 0 0.75rem; white-space: pre; }
.snippet .hit { background: var(--hit); }
.snippet .ln { display: inline-block; width: 3.5rem; color: var(--muted); user-select: none; }
.fix summary { cursor: pointer; font-weight: 600; }
.rule { border-top: 1px solid var(--line); padding-top: 0.75rem; margin-top: 1rem; }
.rule .meta { padding-left: 1.1rem; font-size: 0.9rem; }
"""

_JS = """\
(function () {
  "use strict";
  var severity = document.getElementById("filter-severity");
  var rule = document.getElementById("filter-rule");
  var fn = document.getElementById("filter-function");
  var shown = document.getElementById("shown-count");
  var findings = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  function apply() {
    var s = severity ? severity.value : "", r = rule ? rule.value : "";
    var f = fn ? fn.value : "";
    var count = 0;
    findings.forEach(function (el) {
      var ok = (!s || el.dataset.severity === s) && (!r || el.dataset.rule === r) &&
        (!f || el.dataset.function === f);
      el.hidden = !ok;
      if (ok) { count += 1; }
    });
    if (shown) { shown.textContent = String(count); }
  }
  [severity, rule, fn].forEach(function (el) { if (el) { el.addEventListener("change", apply); } });
  var form = document.getElementById("filters");
  if (form) { form.addEventListener("submit", function (event) { event.preventDefault(); }); }
  var reset = document.getElementById("filter-reset");
  if (reset) {
    reset.addEventListener("click", function () {
      [severity, rule, fn].forEach(function (el) { if (el) { el.value = ""; } });
      apply();
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("button.pick"), function (button) {
    button.addEventListener("click", function () {
      if (!fn) { return; }
      var wanted = button.dataset.function;
      var known = Array.prototype.some.call(fn.options, function (o) {
        return o.value === wanted;
      });
      if (!known) { return; }
      fn.value = wanted;
      apply();
      document.getElementById("findings").scrollIntoView();
    });
  });
  apply();
})();
"""
