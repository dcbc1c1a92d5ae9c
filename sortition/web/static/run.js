// Polls a running draw's state every half second; reloads the page when it has finished.
(function () {
  var run = document.getElementById("run");
  if (!run) return;
  var state = run.getAttribute("data-state");
  if (state !== "waiting" && state !== "running") return;
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(run.getAttribute("data-status"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.finished) { window.location.reload(); return; }
        if (s.state === "running" && text) text.textContent = s.text;
        setTimeout(poll, 500);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();
