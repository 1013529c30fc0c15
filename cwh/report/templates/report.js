(function () {
  'use strict';
  // Filters: show the rows whose host, CAT, status and area are all chosen (and whose control,
  // title or STIG ID contains the search text). Without script every row simply stays shown.
  var bar = document.getElementById('filters');
  if (!bar) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.result'));
  var sections = Array.prototype.slice.call(document.querySelectorAll('section.host[data-host]'));
  var hostRows = Array.prototype.slice.call(document.querySelectorAll('tr.fleet-host[data-host]'));
  var count = document.getElementById('shown-count');
  var keys = rows.map(function (row) {
    var text = [];
    row.querySelectorAll('.cid, .ttl summary, .stig').forEach(function (cell) {
      text.push(cell.textContent);
    });
    return text.join(' ').toLowerCase();
  });
  function chosen(name) {
    var set = {};
    bar.querySelectorAll('input[name="' + name + '"]').forEach(function (box) {
      if (box.checked) { set[box.value] = true; }
    });
    return set;
  }
  function apply() {
    var hostSelect = bar.querySelector('select[name="host"]');
    var host = hostSelect ? hostSelect.value : '';
    var cats = chosen('cat'), statuses = chosen('status'), areas = chosen('area');
    var search = bar.querySelector('input[name="q"]');
    var text = search ? search.value.trim().toLowerCase() : '';
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var d = rows[i].dataset;
      var ok = (!host || d.host === host) && cats[d.cat] === true &&
        statuses[d.status] === true && areas[d.area] === true &&
        (!text || keys[i].indexOf(text) !== -1);
      rows[i].hidden = !ok;
      if (ok) { shown++; }
    }
    sections.forEach(function (s) { s.hidden = host !== '' && s.dataset.host !== host; });
    hostRows.forEach(function (r) { r.classList.toggle('chosen', host !== '' && r.dataset.host === host); });
    count.textContent = 'Showing ' + shown + ' of ' + rows.length + ' results';
  }
  bar.addEventListener('change', apply);
  bar.addEventListener('input', apply);
  var reset = document.getElementById('filters-reset');
  if (reset) {
    reset.addEventListener('click', function () {
      bar.querySelectorAll('input[type="checkbox"]').forEach(function (box) { box.checked = true; });
      bar.querySelectorAll('select').forEach(function (s) { s.value = ''; });
      bar.querySelectorAll('input[type="search"]').forEach(function (s) { s.value = ''; });
      apply();
    });
  }
  bar.hidden = false;
  apply();
}());
