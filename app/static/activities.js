/* Credit wizard step 3: "故授予 X 学分" computed live by the rules engine (POST /api/v1/credit_rules/compute
   with the page's CSRF token); the server computes again for every person on submit. */
(function ($) {
  "use strict";
  var form = $("#step3-form");
  if (!form.length) { return; }
  var hours = $("#hours"), hoursTyped = !!hours.val(), timer = null;
  hours.on("input", function () { hoursTyped = !!hours.val(); });

  function show(credits, explanation, error) {
    $("#granted").text(credits);
    $("#credits").val(credits);
    $("#compute-explanation").text(explanation ? "（" + explanation + "）" : "");
    $("#compute-error").text(error || "");
  }

  function compute() {
    var body = { standard_id: parseInt(form.data("standard"), 10) };
    if (form.data("person")) { body.person_id = parseInt(form.data("person"), 10); }
    form.find(".cme-engine").each(function () {
      var v = $(this).val();
      if (v !== "" && v !== null) { body[$(this).data("key")] = v; }
    });
    $.ajax({
      url: form.data("compute-url"), method: "POST", contentType: "application/json", dataType: "json",
      headers: { "X-CSRFToken": form.find("input[name=csrf_token]").val() }, data: JSON.stringify(body)
    }).done(function (r) {
      show(r.credits, r.explanation, "");
      if (!hoursTyped && r.hours) { hours.val(r.hours); }
    }).fail(function (xhr) {
      var message = (xhr.responseJSON && xhr.responseJSON.message) || "";
      show(0, "", message);
    });
  }
  form.on("input change", ".cme-engine", function () {
    clearTimeout(timer);
    timer = setTimeout(compute, 250);
  });
  // Evidence is uploaded as soon as it is chosen (issue 15.3), one request per file with its progress,
  // and kept in the draft on the server: a refused submission never loses it. A submit clicked while a
  // file is still on its way waits for it.
  var T = $.extend({ failed: "上传失败", retry: "重试", delete: "删除", uploading: "上传中…" },
                   JSON.parse($("#evidence-i18n").text() || "{}"));
  var input = $("#evidence"), list = $("#evidence-files"), pending = 0, waiting = null;
  var token = form.find("input[name=csrf_token]").val();

  function stored(li, f) {
    li.removeClass("cme-failed").attr("data-id", f.id).empty()
      .append('<i class="fa fa-paperclip"></i> ')
      .append($('<a target="_blank"></a>').attr("href", f.url).text(f.name))
      .append(" ").append($('<small class="text-muted"></small>').text(f.kb + "KB")).append(" ")
      .append($('<button type="submit" class="btn btn-xs btn-link text-danger cme-evidence-delete" formnovalidate></button>')
        .attr("formaction", f["delete"]).attr("data-confirm", list.find("[data-confirm]").first().attr("data-confirm") || "")
        .text(T["delete"]));
  }

  function done() {
    pending -= 1;
    if (pending === 0 && waiting) {
      var again = waiting;
      waiting = null;
      form.find("button[name=action][value=" + again + "]").trigger("click");
    }
  }

  function upload(file, li) {
    var data = new FormData();
    data.append("evidence", file, file.name);
    data.append("csrf_token", token);
    var bar = $('<div class="progress-bar" role="progressbar" style="width:0%"></div>');
    li.removeClass("cme-failed").empty().append('<i class="fa fa-paperclip"></i> ')
      .append($("<span></span>").text(file.name + " "))
      .append($('<div class="progress"></div>').append(bar))
      .append($('<small class="text-muted cme-upload-state"></small>').text(T.uploading));
    pending += 1;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", input.data("upload-url"));
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.css("width", Math.round(100 * e.loaded / e.total) + "%"); }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 200 && body.files && body.files.length) {
        stored(li, body.files[0]);
        form.find("#error-evidence").remove();
        form.find("#evidence").closest(".form-group").removeClass("has-error");
      } else {
        failed(li, file, body.message || T.failed);
      }
      done();
    };
    xhr.onerror = function () { failed(li, file, T.failed); done(); };
    xhr.send(data);
  }

  function failed(li, file, message) {
    li.addClass("cme-failed").empty().append('<i class="fa fa-triangle-exclamation"></i> ')
      .append($("<span></span>").text(file.name + "：" + message + " "))
      .append($('<button type="button" class="btn btn-xs btn-default"></button>').text(T.retry)
        .on("click", function () { upload(file, li); }));
  }

  if (input.length && input.data("upload-url") && window.FormData) {
    input.on("change", function () {
      var files = Array.prototype.slice.call(this.files || []);
      $.each(files, function (_i, file) {
        var li = $("<li></li>").appendTo(list);
        upload(file, li);
      });
      input.val("");  // sent already: the form's own submission does not send it again
    });
  }

  list.on("click", ".cme-evidence-delete", function (event) {
    event.preventDefault();
    var button = $(this), question = button.attr("data-confirm");
    if (question && !window.confirm(question)) { return; }
    $.ajax({ url: button.attr("formaction"), method: "POST", headers: { "X-CSRFToken": token, Accept: "application/json" } })
      .done(function () { button.closest("li").remove(); });
  });

  form.on("submit", function (event) {
    var submitter = event.originalEvent && event.originalEvent.submitter;
    if (pending > 0) {  // wait for the files on their way, then submit with the same button
      event.preventDefault();
      waiting = (submitter && submitter.value) || "save";
      return;
    }
    // One click, one submission; the server refuses a repeated one anyway.
    if (submitter && submitter.value === "submit") {
      if (form.data("sent")) { event.preventDefault(); return; }
      form.data("sent", true);
    }
  });
  compute();
})(jQuery);
