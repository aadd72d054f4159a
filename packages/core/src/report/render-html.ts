import type { Matrix, MatrixCell } from './matrix.js';

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}p.sub{color:#5a6272;margin:0 0 1rem}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d8dde6;padding:.35rem .5rem;vertical-align:top}
th{background:#f3f5f9;text-align:left;position:sticky;top:0}td.cell{text-align:center;white-space:nowrap}
tr.group td{background:#eef1f6;font-weight:600}
.complete{background:#e5f6e8}.partial{background:#fff6d6}.missing{background:#fbe9e9}.unknown{background:#f0f0f0}
.ev{display:inline-block;font-size:.75rem;border-radius:3px;padding:0 .3rem;margin-left:.3rem;border:1px solid #9aa3b2}
.ev.verified-live{background:#1e7d32;color:#fff;border-color:#1e7d32}.ev.verified-replay{background:#2f5fb3;color:#fff;border-color:#2f5fb3}
.ev.declared{background:#fff;color:#5a6272}.note{display:block;font-size:.75rem;color:#5a6272;white-space:normal;max-width:18rem;margin:.2rem auto 0}
#legend{margin:1rem 0;padding:.75rem 1rem;border:1px solid #d8dde6;background:#fafbfd}#legend dt{font-weight:600}#legend dd{margin:0 0 .4rem 1rem}
code{font-size:.85em}`;

function cell(c: MatrixCell): string {
  const ev = c.evidence;
  const title = [ev.kind, ev.backend, ev.date].filter(Boolean).join(' · ');
  const notes = [c.mode ? `mode: ${c.mode}` : '', c.notes ?? '', ev.note ?? ''].filter(Boolean).join(' — ');
  return (
    `<td class="cell ${c.status}" data-status="${c.status}" data-evidence="${ev.kind}">${esc(c.status)}` +
    `<span class="ev ${ev.kind}" title="${esc(title)}">${esc(ev.kind)}</span>` +
    (notes ? `<span class="note">${esc(notes)}</span>` : '') +
    `</td>`
  );
}

/** One self-contained page: inline CSS, no scripts, no external assets. */
export function renderHtml(m: Matrix, generatedAt = new Date().toISOString()): string {
  const head = m.drivers.map((d) => `<th data-driver="${esc(d.name)}">${esc(d.title)}<br><code>${esc(d.name)}</code></th>`).join('');
  const rows: string[] = [];
  let group = '';
  for (const f of m.features) {
    if (f.group !== group) {
      group = f.group;
      rows.push(`<tr class="group"><td colspan="${3 + m.drivers.length}">${esc(group)}</td></tr>`);
    }
    rows.push(
      `<tr data-feature="${esc(f.id)}"><td>${esc(f.title)}</td><td><code>${esc(f.id)}</code></td><td>${esc(f.status)}</td>` +
        m.drivers.map((d) => cell(d.cells[f.id]!)).join('') +
        '</tr>',
    );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>virtplug capability matrix</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>virtplug capability matrix</h1>
<p class="sub">Features in Nova's support-matrix semantics, per driver, with the evidence behind each claim. Generated ${esc(generatedAt)}.</p>
<dl id="legend">
<dt>Status</dt><dd><span class="complete">complete</span> · <span class="partial">partial</span> · <span class="missing">missing</span> · <span class="unknown">unknown</span>, as each driver declares it next to its code.</dd>
<dt><span class="ev verified-live">verified-live</span></dt><dd>A contract run against a real backend passed for this feature (hover for date and backend version).</dd>
<dt><span class="ev verified-replay">verified-replay</span></dt><dd>A contract run against recorded real backend output passed.</dd>
<dt><span class="ev declared">declared</span></dt><dd>No contract run backs this cell; it is the driver's word only.</dd>
</dl>
<table id="matrix"><thead><tr><th>Feature</th><th>Id</th><th>Status</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`;
}
