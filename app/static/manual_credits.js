/* Manual entry of a non-project credit (手工录入非项目学分): with a 授分标准 chosen, the credits are
   computed live by the rules engine (POST /api/v1/credit_rules/compute with the page's CSRF token) and
   the server computes them again on save; without one, the typed 学分 is used. */
(function ($) {
  "use strict";
  var form = $("#manual-form");
  if (!form.length) { return; }
  var select = $("#standard_id"), credits = $("#credits"), category = $("#category"), timer = null;

  function fill(box, values, numbered) {
    var keep = box.val() || box.data("value") || "";
    box.empty().append($("<option>").val("").text(""));
    $.each(values, function (i, v) {
      var value = numbered ? String(i + 1) : v;
      box.append($("<option>").val(value).text(v).prop("selected", String(keep) === value));
    });
  }

  function show(value, explanation, error) {
    $("#granted").text(value);
    if (select.val() && select.find("option:selected").data("kind") !== "entered") { credits.val(value || ""); }
    $("#compute-explanation").text(explanation ? "（" + explanation + "）" : "");
    $("#compute-error").text(error || "");
  }

  function compute() {
    if (!select.val()) { return; }
    var body = { standard_id: parseInt(select.val(), 10) };
    form.find(".cme-engine:visible").each(function () {
      var key = $(this).data("key"), v = $(this).val();
      if (key !== "credits" && v !== "" && v !== null) { body[key] = v; }
    });
    var opt = select.find("option:selected");
    if (!body.amount && opt.data("unit-code") === "hours" && body.hours) { body.amount = body.hours; }
    if (opt.data("kind") === "entered") { body.credits = credits.val(); }
    $.ajax({
      url: form.data("compute-url"), method: "POST", contentType: "application/json", dataType: "json",
      headers: { "X-CSRFToken": form.find("input[name=csrf_token]").val() }, data: JSON.stringify(body)
    }).done(function (r) { show(r.credits, r.explanation, ""); })
      .fail(function (xhr) { show(0, "", (xhr.responseJSON && xhr.responseJSON.message) || ""); });
  }

  function layout() {
    var opt = select.find("option:selected"), chosen = !!select.val();
    $(".cme-std-only").toggle(chosen);
    // An "entered" standard (e.g. 杂志社授予学分, capped) still reads the typed credits.
    var entered = chosen && opt.data("kind") === "entered";
    credits.prop("readonly", chosen && !entered);
    if (chosen) {
      category.val(opt.data("category"));
      category.find("option").not(":selected").prop("disabled", true);
      $("#amount-group").toggle(!!opt.data("unit"));
      $("#amount-unit").text(opt.data("unit") || "");
      var rows = opt.data("rows") || [], cols = opt.data("cols") || [], allowed = opt.data("allowed") || [];
      $("#table-group").toggle(rows.length > 0);
      if (rows.length) {
        $("#row-label").text(opt.data("row-label")); $("#col-label").text(opt.data("col-label"));
        fill($("#row"), rows, false); fill($("#col"), cols, true);
      }
      $("#allowed-group").toggle(allowed.length > 0);
      if (allowed.length) { $("#allowed-label").text(opt.data("allowed-label")); fill($("#allowed_value"), allowed, false); }
    } else {
      category.find("option").prop("disabled", false);
    }
  }

  select.on("change", function () { layout(); compute(); });
  form.on("input change", ".cme-engine", function () {
    clearTimeout(timer);
    timer = setTimeout(compute, 250);
  });
  layout();
  compute();
})(jQuery);
