/**
 * The dashboard's parked-deliveries view (docs/hub.md "Parked deliveries"): the deliveries whose outcome is unknown,
 * each one's evidence (the payload as stored, every failed attempt, when it was parked, the decisions taken) and
 * the three decisions an admin may take (mark sent, redrive, drop), each confirmed first. Kept in its own module so
 * other views are added beside it, not inside it; page.ts, script.ts and style.ts insert these parts.
 *
 * The payload is user text (a message anyone with a send token wrote): everything here is rendered with
 * `textContent` only, as the rest of the page (test/security/dashboard-parked-xss.test.ts). Like the rest of
 * the script, this text must contain no backslash, backtick or "${" (script.ts).
 */

export const PARKED_BODY = `
    <section id="parked-section" class="wide">
      <h2>Parked deliveries <span id="parked-count" class="count">0</span>
        <span class="sub-h">outcome unknown: DingTalk may or may not have them</span></h2>
      <div id="parked-error" class="err pad"></div>
      <div id="parked-done" class="ok pad"></div>
      <div class="scroll"><table>
        <thead><tr><th>ID</th><th>Target</th><th>Channel</th><th>Parked</th><th></th></tr></thead>
        <tbody id="parked"></tbody>
      </table></div>
      <div id="parked-detail" class="evidence hidden"></div>
    </section>`;

export const PARKED_STYLE = `
section.wide { grid-column: 1 / -1; }
section h2 .sub-h { text-transform:none; letter-spacing:0; font-weight:400; font-size:12px; }
.ok { color:var(--ok); font-size:12px; }
.evidence { border-top:1px solid var(--line); padding:12px 16px 16px; }
.evidence h3 { font-size:12px; text-transform:uppercase; letter-spacing:.5px; color:var(--muted); margin:14px 0 6px; }
.evidence .ev-head { display:flex; align-items:center; gap:8px; flex-wrap:wrap; }
.evidence dl { display:grid; grid-template-columns:max-content 1fr; gap:2px 12px; margin:8px 0 0; font-size:12px; }
.evidence dt { color:var(--muted); }
.evidence dd { margin:0; }
.evidence pre { background:#f7f8fb; border:1px solid var(--line); border-radius:6px; padding:8px 10px; margin:0;
  max-height:240px; overflow:auto; font-size:12px; white-space:pre-wrap; word-break:break-word; }
.evidence ul { list-style:none; margin:0; padding:0; font-size:12px; }
.evidence li { padding:4px 0; border-bottom:1px dashed var(--line); }
.evidence li:last-child { border-bottom:none; }
.evidence .acts-row { display:flex; gap:8px; align-items:center; margin-top:12px; flex-wrap:wrap; }
.evidence input { flex:1; min-width:200px; padding:5px 10px; border:1px solid var(--line); border-radius:6px; font:inherit; }
button.danger { border-color:var(--bad); color:var(--bad); }
`;

export const PARKED_SCRIPT = `
  // Parked deliveries (parked.ts): the list, one delivery's evidence, and the three decisions, each confirmed.
  var parked = { open: null };
  var RESOLVE_WORDS = {
    'mark-sent': ['Mark sent', 'it did arrive: it becomes sent and nothing is sent again.'],
    redrive: ['Redrive', 'send it again now: if DingTalk did get it, people will see it twice.'],
    drop: ['Drop', 'never send it: it becomes cancelled.']
  };

  function loadParked() {
    api('/v1/deliveries?status=parked&limit=200').then(function (j) {
      var body = $('parked'); body.textContent = '';
      $('parked-count').textContent = j.deliveries.length;
      if (!j.deliveries.length) body.appendChild(emptyRow(5, 'Nothing parked: every outcome is known.'));
      j.deliveries.forEach(function (d) {
        var tr = el('tr');
        tr.appendChild(el('td', 'num', '#' + d.id));
        tr.appendChild(el('td', '', d.target + (d.part ? ' (' + d.part.index + '/' + d.part.count + ')' : '')));
        tr.appendChild(el('td', '', d.channel));
        var last = el('td'); last.appendChild(when('div', d.updatedAt));
        if (d.lastError) last.appendChild(el('div', 'err', d.lastError));
        tr.appendChild(last);
        var acts = el('td', 'acts');
        var b = el('button', 'mini', 'Evidence');
        b.type = 'button';
        b.setAttribute('data-parked', String(d.id));
        b.setAttribute('aria-label', 'evidence of delivery #' + d.id);
        acts.appendChild(b); tr.appendChild(acts);
        body.appendChild(tr);
      });
      if (parked.open) showEvidence(parked.open);
    }).catch(function (e) { showError('parked-error', e); });
  }

  function fact(dl, name, value) {
    dl.appendChild(el('dt', '', name));
    if (value && value.nodeType) { dl.appendChild(value); return; }
    dl.appendChild(el('dd', '', value === undefined || value === null ? '–' : value));
  }

  function showEvidence(id) {
    parked.open = id;
    api('/v1/deliveries/' + encodeURIComponent(id)).then(function (e) {
      if (parked.open !== id) return;
      var box = $('parked-detail'); box.textContent = ''; box.classList.remove('hidden');
      var head = el('div', 'ev-head');
      head.appendChild(el('strong', '', 'Delivery #' + e.id));
      head.appendChild(badge(e.status));
      head.appendChild(el('span', 'sub', e.kind + ' to ' + e.target + ' via ' + e.via + ' (' + e.channel + ')'));
      var close = el('button', 'mini', 'Close'); close.type = 'button'; close.setAttribute('data-close', '1');
      head.appendChild(close);
      box.appendChild(head);
      var dl = el('dl');
      fact(dl, 'Message', e.messageId);
      fact(dl, 'Created', when('dd', e.createdAt));
      fact(dl, 'Parked', e.parkedAt ? when('dd', e.parkedAt) : '–');
      fact(dl, 'Attempts', e.attempts);
      if (e.lastError) fact(dl, 'Last error', e.lastError);
      box.appendChild(dl);

      box.appendChild(el('h3', '', 'What was to be sent'));
      box.appendChild(el('pre', 'ev-payload', JSON.stringify(e.payload, null, 2)));

      box.appendChild(el('h3', '', 'Failed attempts'));
      var ul = el('ul', 'ev-failures');
      if (!e.failures.length) ul.appendChild(el('li', 'sub', 'None recorded.'));
      e.failures.forEach(function (f) {
        var li = el('li');
        li.appendChild(when('span', f.at));
        li.appendChild(el('span', '', ' #' + f.attempt + ' ' + f.action + (f.code ? ' · ' + f.code : '') + (f.outcome ? ' · outcome ' + f.outcome : '')));
        li.appendChild(el('div', 'err', f.reason));
        ul.appendChild(li);
      });
      box.appendChild(ul);

      box.appendChild(el('h3', '', 'Decisions'));
      var dul = el('ul', 'ev-decisions');
      if (!e.decisions.length) dul.appendChild(el('li', 'sub', 'None yet.'));
      e.decisions.forEach(function (x) {
        var li = el('li');
        li.appendChild(when('span', x.at));
        li.appendChild(el('span', '', ' ' + x.action + ' by ' + x.by + ' (was ' + x.previousStatus + ')'));
        if (x.note) li.appendChild(el('div', 'sub', x.note));
        dul.appendChild(li);
      });
      box.appendChild(dul);

      if (e.status === 'parked') {
        var row = el('div', 'acts-row');
        var note = el('input'); note.id = 'parked-note'; note.type = 'text'; note.maxLength = 1000;
        note.placeholder = 'Note for the record (what you checked)'; note.setAttribute('aria-label', 'note');
        row.appendChild(note);
        ['mark-sent', 'redrive', 'drop'].forEach(function (a) {
          var b = el('button', a === 'drop' ? 'danger' : (a === 'mark-sent' ? 'primary' : ''), RESOLVE_WORDS[a][0]);
          b.type = 'button';
          b.setAttribute('data-resolve', a);
          row.appendChild(b);
        });
        box.appendChild(row);
      }
    }).catch(function (err) { showError('parked-error', err); });
  }

  function resolveParked(b, action) {
    var id = parked.open;
    if (!id) return;
    if (!window.confirm(RESOLVE_WORDS[action][0] + ' delivery #' + id + ': ' + RESOLVE_WORDS[action][1])) return;
    var input = $('parked-note');
    var note = input ? input.value.trim() : '';
    var body = note ? { action: action, note: note } : { action: action };
    b.disabled = true;
    $('parked-done').textContent = '';
    $('parked-error').textContent = '';
    api('/v1/deliveries/' + encodeURIComponent(id) + '/resolve', { method: 'POST', body: JSON.stringify(body) }).then(function (r) {
      $('parked-error').textContent = '';
      $('parked-done').textContent = '#' + id + ': ' + r.decision.action + ' by ' + r.decision.by + ', now ' + r.delivery.status;
      loadParked();
    }, function (err) {
      b.disabled = false;
      showError('parked-error', err);
      showEvidence(id);
    });
  }

  $('parked-section').addEventListener('click', function (ev) {
    var b = ev.target;
    if (!b || !b.getAttribute) return;
    var open = b.getAttribute('data-parked');
    if (open) { $('parked-done').textContent = ''; $('parked-error').textContent = ''; showEvidence(open); return; }
    if (b.getAttribute('data-close')) { parked.open = null; $('parked-detail').classList.add('hidden'); return; }
    var action = b.getAttribute('data-resolve');
    if (action && RESOLVE_WORDS[action]) resolveParked(b, action);
  });
`;
