/* AJAX pickers (Select2 with server-side search) and job progress bars. */
(function ($) {
  "use strict";
  function initPickers() {
    $("select.cme-picker").each(function () {
      var el = $(this);
      el.select2({
        placeholder: "请输入姓名、卡号或拼音首字母搜索",
        allowClear: true,
        minimumInputLength: 0,
        language: { noResults: function () { return "无匹配结果"; },
                    searching: function () { return "搜索中…"; },
                    loadingMore: function () { return "加载更多…"; } },
        ajax: {
          url: el.data("url"), dataType: "json", delay: 250,
          data: function (params) { return { q: params.term || "", page: params.page || 1 }; },
          processResults: function (data) { return data; }
        }
      });
    });
  }
  var STATUS = { queued: "排队中…", running: "执行中…", finished: "已完成", failed: "失败" };
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
    }).fail(function () { setTimeout(function () { pollJob(box); }, 2000); });
  }
  $(function () {
    initPickers();
    $(".cme-job").each(function () { pollJob($(this)); });
  });
})(jQuery);
