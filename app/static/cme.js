/* AJAX pickers (Select2 with server-side search), job progress bars, and the page language
   for the bundled widgets (Select2, bootstrap-datepicker, Flask-AppBuilder's own scripts). */
(function ($) {
  "use strict";
  // Strings rendered by cme_base.html in the page's language (Chinese when missing).
  var I18N = $.extend(true, {
    locale: "zh", fab: {}, picker: "请输入姓名、卡号或拼音首字母搜索",
    select2: { noResults: "无匹配结果", searching: "搜索中…", loadingMore: "加载更多…",
               errorLoading: "无法载入结果", inputTooShort: "请再输入至少{n}个字符",
               inputTooLong: "请删除{n}个字符", maximumSelected: "最多只能选择{n}项", removeAllItems: "清除全部" },
    job: { queued: "排队中…", running: "执行中…", finished: "已完成", failed: "失败" }
  }, JSON.parse($("#cme-i18n").text() || "{}"));
  function fill(text, n) { return text.replace("{n}", n); }
  var S2 = I18N.select2;
  var select2Language = {
    noResults: function () { return S2.noResults; },
    searching: function () { return S2.searching; },
    loadingMore: function () { return S2.loadingMore; },
    errorLoading: function () { return S2.errorLoading; },
    removeAllItems: function () { return S2.removeAllItems; },
    inputTooShort: function (a) { return fill(S2.inputTooShort, a.minimum - a.input.length); },
    inputTooLong: function (a) { return fill(S2.inputTooLong, a.input.length - a.maximum); },
    maximumSelected: function (a) { return fill(S2.maximumSelected, a.maximum); }
  };

  // Flask-AppBuilder's ab.js hard-codes English placeholders ("Select", "Select a State") and
  // no Select2 language: translate them on the way in. Its blank choice is an option "__None"
  // (WTForms 3.3 shows the value as the label): make it the placeholder, with an empty label.
  if ($.fn.select2) {
    var originalSelect2 = $.fn.select2;
    var translatedSelect2 = function (options) {
      if (!options || typeof options !== "object") { return originalSelect2.apply(this, arguments); }
      return this.each(function () {
        var el = $(this), opts = $.extend({}, options);
        if (typeof opts.placeholder === "string" && I18N.fab[opts.placeholder]) {
          opts.placeholder = I18N.fab[opts.placeholder];
        }
        if (!opts.language) { opts.language = select2Language; }
        var blank = el.find("option[value='__None']");
        if (blank.length) {
          blank.text("");
          opts.placeholder = { id: "__None", text: el.data("placeholder") || opts.placeholder || "" };
        }
        originalSelect2.call(el, opts);
      });
    };
    $.extend(translatedSelect2, originalSelect2);  // keeps $.fn.select2.defaults and .amd
    $.fn.select2 = translatedSelect2;
  }
  if ($.fn.datepicker && /^zh/.test(I18N.locale) && $.fn.datepicker.dates["zh-CN"]) {
    $.fn.datepicker.defaults.language = "zh-CN";
  }
  if (typeof window.ab_alert === "function") {  // ab_actions.js: ab_alert('No row selected')
    var originalAlert = window.ab_alert;
    window.ab_alert = function (text) { return originalAlert(I18N.fab[text] || text); };
  }

  // REST writes with the session cookie need the page's CSRF token (JWT clients do not): every
  // same-origin jQuery AJAX write carries it; window.cme.csrfToken() for fetch().
  function csrfToken() { return $("meta[name=csrf-token]").attr("content") || ""; }
  window.cme = $.extend(window.cme || {}, { csrfToken: csrfToken });
  $.ajaxPrefilter(function (options, original, xhr) {
    if (!/^(GET|HEAD|OPTIONS)$/i.test(options.type || "GET") && !options.crossDomain && csrfToken()) {
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
    }
  });

  function initPickers() {
    $("select.cme-picker").each(function () {
      var el = $(this), depends = el.data("depends");
      el.select2({
        placeholder: el.data("placeholder") || I18N.picker,
        allowClear: true,
        minimumInputLength: 0,
        language: select2Language,
        ajax: {
          url: el.data("url"), dataType: "json", delay: 250,
          data: function (params) {
            var query = { q: params.term || "", page: params.page || 1 };
            // A dependent picker (department of the chosen institution) sends its parent's value.
            if (depends) { query.parent = $("#" + depends).val() || ""; }
            return query;
          },
          processResults: function (data) { return data; }
        }
      });
      if (depends) {
        $("#" + depends).on("change", function () { el.val(null).trigger("change"); });
      }
    });
  }
  var STATUS = I18N.job;
  function pollJob(box) {
    var bar = box.find(".progress-bar"), msg = box.find(".cme-job-message");
    $.getJSON(box.data("status-url"), function (job) {
      var pct = job.percent + "%";
      bar.css("width", pct).text(pct).attr("aria-valuenow", job.percent);
      msg.text((STATUS[job.status] || job.status) + (job.message ? " " + job.message : "") +
               (job.total ? "（" + job.done + "/" + job.total + "）" : ""));
      if (job.status === "finished" || job.status === "failed") {
        bar.removeClass("active progress-bar-striped")
           .addClass(job.status === "finished" ? "progress-bar-success" : "progress-bar-danger");
        // A failed job ends with a full red bar labelled 失败, whatever row it stopped at.
        if (job.status === "failed") { bar.css("width", "100%").text(STATUS.failed); }
        box.attr("data-done", job.status);
        if (job.has_file) { box.find(".cme-job-download").attr("href", box.data("download-url")).show(); }
        return;
      }
      setTimeout(function () { pollJob(box); }, 700);
    }).fail(function (xhr) {
      // 404: the job is gone (or was never this user's) — stop polling; else retry (network, 5xx).
      if (xhr.status === 404 || xhr.status === 403) {
        msg.text(STATUS.gone || "任务不存在");
        box.attr("data-done", "gone");
        return;
      }
      setTimeout(function () { pollJob(box); }, 2000);
    });
  }
  $(function () {
    // Top-level menu labels may end in "…" on narrower screens (cme.css): the full text as tooltip.
    $(".cme-navbar .navbar-nav > li > a.dropdown-toggle").each(function () {
      if (!this.title) { this.title = $.trim($(this).text()); }
    });
    initPickers();
    $(".cme-job").each(function () { pollJob($(this)); });
  });
})(jQuery);
