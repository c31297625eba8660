// Progress of a labeling campaign: per pool, per labeller. Refreshes itself every few seconds.
// (No import of scene.js: that pulls in three.js, which this page does not need.)
async function getJson(url) {
  const res = await fetch(url);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
  return body;
}

const pct = (x) => (x === null ? '—' : `${(100 * x).toFixed(0)} %`);

function cell(row, text, tag = 'td') {
  const c = document.createElement(tag);
  c.textContent = text;
  row.appendChild(c);
}

function render(data) {
  const box = document.getElementById('pools');
  box.innerHTML = '';
  if (data.pools.length === 0) box.textContent = 'No pools are being labelled on this server.';
  for (const p of data.pools) {
    const h = document.createElement('h2');
    h.textContent = `${p.pool} (${p.kind === 'pair' ? 'pairs' : 'rating'})`;
    const summary = document.createElement('p');
    summary.className = 'pool-summary';
    summary.dataset.pool = p.pool;
    summary.textContent = `${p.answeredQueries} of ${p.queries} answered by someone; ${p.overlapQueries} judged by two or more people; agreement ${pct(p.agreement)}`;
    const table = document.createElement('table');
    table.className = 'stats';
    table.dataset.pool = p.pool;
    const head = document.createElement('tr');
    for (const t of ['labeller', 'judged', 'skipped', 'both bad', "can't tell", 'agreement with others']) cell(head, t, 'th');
    table.appendChild(head);
    for (const t of p.teachers) {
      const r = document.createElement('tr');
      r.dataset.teacher = t.teacher;
      cell(r, t.teacher);
      cell(r, String(t.answered));
      cell(r, String(t.skipped));
      cell(r, String(t.bothBad));
      cell(r, String(t.cantTell));
      cell(r, t.compared ? `${pct(t.agreed / t.compared)} (${t.agreed} of ${t.compared})` : '—');
      table.appendChild(r);
    }
    box.append(h, summary, table);
  }
  document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  window.pbrlProgress = { ready: true, data };
}

async function refresh() {
  try {
    render(await getJson('/api/label/progress'));
    document.getElementById('error').textContent = '';
  } catch (e) {
    document.getElementById('error').textContent = `could not load progress: ${e.message}`;
  }
  setTimeout(refresh, 5000);
}
refresh();
