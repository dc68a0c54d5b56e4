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
  form.on("submit", function (event) {
    // One click, one submission; the server refuses a repeated one anyway.
    var submitter = event.originalEvent && event.originalEvent.submitter;
    if (submitter && submitter.value === "submit") {
      if (form.data("sent")) { event.preventDefault(); return; }
      form.data("sent", true);
    }
  });
  compute();
})(jQuery);
