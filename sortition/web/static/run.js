// Polls a running draw's state every half second; reloads the page when it has finished.
(function () {
  var run = document.getElementById("run");
  if (!run) return;
  var state = run.getAttribute("data-state");
  if (state !== "waiting" && state !== "running") return;
  var text = document.getElementById("progress-text");
  var bar = document.getElementById("bar");
  function poll() {
    fetch(run.getAttribute("data-status"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.finished) { window.location.reload(); return; }
        if (s.state === "running" && text) text.textContent = s.text;
        if (bar && typeof s.fraction === "number") {
          bar.style.animation = "none";
          bar.style.width = (100 * s.fraction).toFixed(1) + "%";
        }
        setTimeout(poll, 500);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();
