/* The one list layout and the one date widget (issue 15.2, 15.8), for FAB's lists and our own tables:
   - cells stay on one line; long text is cut with "…" and keeps its full text as a tooltip;
   - a list that declares more columns than fit the screen shows its first ones and puts the rest behind
     显示列 (the choice is remembered per page), so nothing wraps one character per line;
   - FAB's filter row leaves the filters nobody typed into out of the query;
   - native <input type="date"> fields get the bootstrap-datepicker FAB's own forms use. */
(function ($) {
  "use strict";
  var I18N = $.extend(true, { layout: { columns: "显示列", all: "显示全部列" } },
                      JSON.parse($("#cme-i18n").text() || "{}"));
  var DATE = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/;
  var CLIP_CHARS = 14;

  function textOnly(td) {
    // plain text (or a link / label): safe to cut; cells holding controls are left alone
    return !$(td).find("input, select, textarea, button, .btn, form, table").length;
  }

  function clipCells(table) {
    $(table).children("tbody").children("tr").children("td").each(function () {
      var text = $.trim($(this).text()).replace(/\s+/g, " ");
      if (!text || DATE.test(text) || !textOnly(this) || /reason|cme-noclip/.test(this.className)) { return; }
      if (text.length > CLIP_CHARS) {
        $(this).addClass("cme-clip");
        if (!this.title) { this.title = text; }
      }
    });
  }

  function overflowing(table) {
    var wrap = table.parentElement;
    return table.offsetWidth > (wrap.clientWidth || wrap.offsetWidth) + 1;
  }

  function storeKey() { return "cme-cols:" + location.pathname; }

  function setColumn(table, index, visible) {
    $(table).find("> thead > tr, > tbody > tr").each(function () {
      $(this).children().eq(index).toggleClass("cme-col-hidden", !visible);
    });
  }

  function chooser(table, columns) {
    var header = $(table).closest(".cme-list-page, .panel-body, .cme-main").find(".cme-list-header").first();
    var menu = $('<ul class="dropdown-menu dropdown-menu-right"></ul>');
    $.each(columns, function (_i, col) {
      var box = $('<input type="checkbox">').prop("checked", !col.hidden).attr("data-index", col.index);
      menu.append($("<li></li>").append($("<label></label>").append(box).append(" " + col.label)));
    });
    var group = $('<div class="btn-group cme-columns" id="cme-columns"></div>')
      .append($('<button type="button" class="btn btn-sm btn-default dropdown-toggle" data-toggle="dropdown"></button>')
        .html('<i class="fa fa-table-columns"></i> ' + I18N.layout.columns + ' <span class="caret"></span>'))
      .append(menu);
    menu.on("click", "label, input", function (event) { event.stopPropagation(); });
    menu.on("change", "input", function () {
      setColumn(table, parseInt($(this).attr("data-index"), 10), this.checked);
      var shown = menu.find("input:checked").map(function () { return $(this).attr("data-index"); }).get();
      try { localStorage.setItem(storeKey(), JSON.stringify(shown)); } catch (e) { /* private mode */ }
      $(table.parentElement).toggleClass("cme-scroll", overflowing(table));
    });
    if (header.length) { header.append(group); } else { $(table).before(group); }
  }

  // FAB's filter script calls $.fn.datetimepicker, a plugin FAB no longer bundles (a date filter threw
  // a TypeError): the same bootstrap-datepicker as everywhere else.
  if ($.fn.datepicker && !$.fn.datetimepicker) {
    $.fn.datetimepicker = function () {
      return this.datepicker({ format: "yyyy-mm-dd", autoclose: true, todayHighlight: true, clearBtn: true });
    };
  }

  // Columns a reader needs on every row stay when others go behind 显示列.
  var KEEP = /status|state|met|result|verdict/i;

  function fit(table) {
    clipCells(table);
    if (!overflowing(table)) { return; }
    $(table).addClass("cme-tight");
    var columns = [];
    $(table).find("> thead > tr > th").each(function (index) {
      if ($(this).attr("data-col")) { columns.push({ index: index, label: $.trim($(this).text()), hidden: false }); }
    });
    if (!columns.length || window.innerWidth < 768) {
      $(table.parentElement).addClass("cme-scroll");
      return;
    }
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(storeKey()) || "null"); } catch (e) { saved = null; }
    if (saved) {
      $.each(columns, function (_i, col) {
        col.hidden = saved.indexOf(String(col.index)) < 0;
        if (col.hidden) { setColumn(table, col.index, false); }
      });
    } else {
      // hide from the right until the list fits, keeping the first three columns and the statuses
      for (var i = columns.length - 1; i >= 3 && overflowing(table); i--) {
        if (KEEP.test($(table).find("> thead > tr > th").eq(columns[i].index).attr("data-col"))) { continue; }
        columns[i].hidden = true;
        setColumn(table, columns[i].index, false);
      }
    }
    $(table.parentElement).toggleClass("cme-scroll", overflowing(table));
    if ($.grep(columns, function (c) { return c.hidden; }).length || saved) { chooser(table, columns); }
  }

  $(function () {
    // Our own lists (tables with a header row) follow the same layout unless they opt out (.cme-wrap);
    // detail tables (label / value rows) keep wrapping their long texts.
    $(".cme-main table.table").not(".filters, .cme-wrap, .cme-fit")
      .filter(function () { return $(this).children("thead").length > 0; }).addClass("cme-fit");
    $("table.cme-fit").each(function () { fit(this); });

    // FAB's filters: the ones left empty are not sent (an empty "等于" would match nothing).
    $(document).on("submit", "#filter_form", function () {
      $(this).find(".filter_val").each(function () {
        if ($(this).is(":checkbox")) { return; }
        var v = $(this).val();
        if (v === null || v === "" || v === "__None") { $(this).prop("disabled", true); }
      });
    });

    // One date widget everywhere: bootstrap-datepicker, YYYY-MM-DD, in the page's language.
    if ($.fn.datepicker) {
      $(".cme-main input[type=date]").each(function () {
        var input = $(this), min = input.attr("min"), max = input.attr("max");
        this.type = "text";
        input.addClass("cme-date").attr({ autocomplete: "off", placeholder: input.attr("placeholder") || "YYYY-MM-DD" });
        // opened by a click (not on focus), so typing a date and moving on never leaves a calendar open
        input.datepicker({ format: "yyyy-mm-dd", autoclose: true, todayHighlight: true, clearBtn: true,
                           showOnFocus: false, startDate: min || undefined, endDate: max || undefined });
        input.on("click", function () { input.datepicker("show"); });
      });
    }
  });
})(jQuery);
