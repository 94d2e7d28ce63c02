/**
 * The dashboard's send-result part (docs/hub.md "Send results"), kept apart from the rest of the page script so the
 * deliveries panel's other views can change without touching it. It is pasted inside the page script's closure
 * (script.ts) and uses its helpers (`el`, `badge`, `api`, `when`, `showError`): a badge of recipient outcomes on each
 * delivery row (`recipientsBadge`), a row that opens under it with each recipient's outcome, DingTalk's code and
 * reason and the fallback (`toggleRecipients`), and the "Dropped" view's query (`DROPPED_QUERY`). Everything is
 * written as text, never as HTML. No backslash, backtick or "${" (it sits inside a template literal).
 */

export const RECIPIENTS_SCRIPT = `
  var DROPPED_QUERY = '/v1/deliveries?dropped=true&limit=200';

  // "1 dropped", "2 read", ...: the outcomes DingTalk reported, the drops first; a button that opens the detail.
  function recipientsBadge(d, tr, cols) {
    var r = d.recipients;
    if (!r) return null;
    var parts = [];
    if (r.dropped) parts.push(r.dropped + ' dropped');
    if (r.read) parts.push(r.read + ' read');
    if (r.delivered) parts.push(r.delivered + ' delivered');
    if (r.pending) parts.push(r.pending + ' pending');
    var b = el('button', 'mini rcpt' + (r.dropped ? ' rcpt-dropped' : ''), parts.join(', '));
    b.type = 'button';
    b.setAttribute('data-recipients', d.id);
    b.title = 'What DingTalk reported for each recipient';
    b.addEventListener('click', function () { toggleRecipients(d.id, tr, cols); });
    return b;
  }

  function toggleRecipients(id, tr, cols) {
    var next = tr.nextSibling;
    if (next && next.getAttribute && next.getAttribute('data-detail') === id) { next.remove(); return; }
    api('/v1/deliveries/' + encodeURIComponent(id)).then(function (j) {
      var d = j; // the delivery with its evidence and recipients
      var row = el('tr', 'detail');
      row.setAttribute('data-detail', id);
      var td = el('td'); td.colSpan = cols;
      var t = el('table', 'people');
      var head = el('tr');
      ['Recipient', 'Outcome', 'Why', 'Fallback', 'Updated'].forEach(function (h) { head.appendChild(el('th', '', h)); });
      t.appendChild(head);
      d.people.forEach(function (p) {
        var r = el('tr');
        r.appendChild(el('td', '', p.userId));
        var o = el('td'); o.appendChild(badge(p.outcome)); r.appendChild(o);
        var why = el('td');
        if (p.reasonCode) why.appendChild(el('div', 'code', p.reasonCode));
        if (p.reason) why.appendChild(el('div', 'sub', p.reason));
        r.appendChild(why);
        r.appendChild(el('td', 'num', p.fallbackDeliveryId ? '#' + p.fallbackDeliveryId : ''));
        var u = el('td'); u.appendChild(when('div', p.updatedAt)); r.appendChild(u);
        t.appendChild(r);
      });
      td.appendChild(t);
      if (d.check) {
        td.appendChild(el('div', 'sub', 'Asked DingTalk ' + d.check.asked + ' time' + (d.check.asked === 1 ? '' : 's') +
          (d.check.nextAt ? '; asking again later' : '; done') + (d.check.lastError ? ' (last error: ' + d.check.lastError + ')' : '')));
      }
      row.appendChild(td);
      tr.parentNode.insertBefore(row, tr.nextSibling);
    }).catch(function (e) { showError('deliveries-error', e); });
  }
`;
