/* The site manager's period page (templates/supervision/m_period.html): a photo is uploaded as soon as it
   is taken, with a progress bar, a retry after a network failure, and the slot's tile replaced by the
   server's answer (no page reload). The server keeps every check (CSRF token, one-time form token, file
   type and size, open period); a photo flagged by its EXIF time or place is shown in amber with its reason. */
(function () {
  "use strict";
  var slots = document.getElementById("slots");
  if (!slots || !window.XMLHttpRequest || !window.FormData) { return; }
  document.documentElement.classList.add("js-upload");
  var T = JSON.parse(slots.getAttribute("data-text") || "{}");
  var pos = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function now() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (p) { pos = p.coords; }, function () {},
      {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
  }

  function part(tile, cls) { return tile.querySelector("." + cls); }

  function progress(tile, percent) {
    var box = part(tile, "tile-progress");
    if (!box) { return; }
    box.hidden = percent === null;
    part(tile, "tile-bar").style.width = (percent || 0) + "%";
    tile.setAttribute("data-progress", percent === null ? "" : String(percent));
  }

  function say(tile, kind, text, retry) {
    var box = part(tile, "tile-msg"), again = part(tile, "tile-retry");
    if (box) {
      box.hidden = !text;
      box.className = "tile-msg msg-" + kind;
      box.textContent = text || "";
      box.setAttribute("role", kind === "danger" ? "alert" : "status");
    }
    if (again) {
      again.hidden = !retry;
      again.onclick = retry || null;
    }
  }

  function missing(text) {
    var line = document.getElementById("missing");
    if (!line) { return; }
    line.hidden = !text;
    line.querySelector("span").textContent = text || "";
  }

  function answered(tile, json) {
    var holder = document.createElement("div");
    holder.innerHTML = json.tile;
    var fresh = holder.firstElementChild;
    fresh.setAttribute("data-progress", "100");
    tile.parentNode.replaceChild(fresh, tile);
    if (json.flagged) {
      say(fresh, "warning", T.flagged);  // kept, but to be checked: amber (the reason is on the tile), never green
    } else {
      say(fresh, "success", json.message);
    }
    missing(json.missing);
  }

  function preview(tile, file) {
    // The photo just taken, shown while it uploads (the server's stamped copy replaces it).
    if (!window.URL || !URL.createObjectURL || tile.querySelector(".tile-preview")) { return; }
    var img = document.createElement("img");
    img.className = "tile-preview";
    img.alt = "";
    img.src = URL.createObjectURL(file);
    var badge = part(tile, "tile-state");
    if (badge) { badge.textContent = T.uploading; }
    part(tile, "tile-head").insertAdjacentElement("afterend", img);
  }

  function send(form, file) {
    var tile = form.closest(".slot");
    var data = new FormData(form);
    data.set("photo", file, file.name || "photo.jpg");
    data.set("browser_time", now());
    if (pos) { data.set("lat", pos.latitude); data.set("lon", pos.longitude); }
    var retry = function () { send(form, file); };
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrf_token]").value);
    tile.classList.add("is-uploading");
    tile.setAttribute("data-state", "uploading");
    preview(tile, file);
    say(tile, "info", T.uploading);
    progress(tile, 0);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { progress(tile, Math.min(99, Math.round(e.loaded * 100 / e.total))); }
    };
    xhr.onload = function () {
      tile.classList.remove("is-uploading");
      var json = null;
      try { json = JSON.parse(xhr.responseText); } catch (err) { json = null; }
      if (json && json.ok) { progress(tile, 100); answered(tile, json); return; }
      progress(tile, null);
      tile.setAttribute("data-state", "failed");
      if (json) {  // refused by the server: its message; an expired page needs a fresh one
        say(tile, "danger", json.message, xhr.status === 400 ? function () { location.reload(); } : null);
        if (xhr.status === 400) { part(tile, "tile-retry").textContent = T.reload; }
      } else if (xhr.status >= 500) {
        say(tile, "danger", T.failed + " (" + xhr.status + ")", retry);
      } else if (xhr.status === 403 || /\/m\/login/.test(xhr.responseURL || "")) {
        location.href = slots.getAttribute("data-login");  // the session ended: the login page says why
      } else {
        location.reload();  // the form was already handled (a repeat): the page shows what happened
      }
    };
    xhr.onerror = function () {
      tile.classList.remove("is-uploading");
      tile.setAttribute("data-state", "failed");
      progress(tile, null);
      say(tile, "danger", T.network, retry);
    };
    xhr.send(data);
  }

  slots.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.classList || !input.classList.contains("photo-input") || !input.files || !input.files.length) { return; }
    var file = input.files[0];
    input.value = "";  // the same photo may be chosen again after a failure
    send(input.form, file);
  });
})();
