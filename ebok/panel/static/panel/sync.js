// Live progress of a sync started with "Sync now": polls the run's small JSON
// endpoint until the run has finished, then reloads the list of runs.
(function () {
  "use strict";
  var box = document.getElementById("sync-progress");
  if (!box || !box.dataset.progressUrl) { return; }
  var url = box.dataset.progressUrl;

  function describe(run) {
    var parts = [];
    var progress = run.progress || {};
    if (progress.stage) { parts.push(progress.stage); }
    if (progress.done !== undefined && progress.total) {
      parts.push(progress.done + " / " + progress.total);
    }
    if (progress.message) { parts.push(progress.message); }
    return parts.join(" · ");
  }

  function show(text) { box.textContent = text; }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (run) {
        if (run.finished) {
          show(box.dataset.doneLabel + " " + run.outcome_label);
          box.dataset.outcome = run.outcome;
          window.setTimeout(function () {
            window.location.assign(window.location.pathname);
          }, 1500);
          return;
        }
        show(box.dataset.runningLabel + " " + describe(run));
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  show(box.dataset.runningLabel);
  poll();
})();
