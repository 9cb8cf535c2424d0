// Live progress of a sync started with "Sync now": polls a small JSON endpoint
// until the run has finished, then reloads the list of runs.
(function () {
  "use strict";
  var box = document.getElementById("sync-progress");
  if (!box || !box.dataset.progressUrl) { return; }
  var url = box.dataset.progressUrl;

  // The worker reports phases by name ("checking balances"); the page carries
  // their translations as data-phase-checking-balances and so on.
  function phaseLabel(phase) {
    var key = "phase" + phase.split(" ").map(function (word) {
      return word.charAt(0).toUpperCase() + word.slice(1);
    }).join("");
    return box.dataset[key] || phase;
  }

  function describe(progress) {
    var parts = [];
    if (progress.phase) { parts.push(phaseLabel(progress.phase)); }
    if (progress.file) { parts.push(progress.file); }
    if (progress.bytes) {
      parts.push(Math.round(100 * (progress.bytes_done || 0) / progress.bytes) + "%");
    }
    // "label: n" needs no plural forms.
    if (progress.rows) { parts.push(box.dataset.rowsLabel + ": " + progress.rows); }
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
        box.dataset.state = run.state;
        if (run.state === "finished") {
          box.dataset.outcome = run.outcome;
          show(box.dataset.doneLabel + " " + run.outcome_label);
          window.setTimeout(function () {
            window.location.assign(window.location.pathname);
          }, 2000);
          return;
        }
        if (run.state === "running") {
          show(box.dataset.runningLabel + " " + describe(run.progress || {}));
        } else {
          show(box.dataset.waitingLabel);
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  show(box.dataset.waitingLabel);
  poll();
})();
