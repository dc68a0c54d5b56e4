/* Copies each column header of a ``table.cme-cards`` onto its cells (data-label), for table_cards.css:
   the phone shows every row as a card of "header: value" lines in the user's language. */
(function () {
  "use strict";
  document.querySelectorAll("table.cme-cards").forEach(function (table) {
    var heads = [];
    table.querySelectorAll("thead tr:last-child th").forEach(function (th) {
      var span = parseInt(th.getAttribute("colspan") || "1", 10);
      for (var i = 0; i < span; i += 1) { heads.push(th.textContent.trim()); }
    });
    table.querySelectorAll("tbody tr, tfoot tr").forEach(function (tr) {
      var col = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        if (heads[col] && !cell.hasAttribute("colspan")) { cell.setAttribute("data-label", heads[col]); }
        col += parseInt(cell.getAttribute("colspan") || "1", 10);
      });
    });
  });
})();
