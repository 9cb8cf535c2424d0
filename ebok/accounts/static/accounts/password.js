/* Password fields: a "Show password" toggle on every one, and a strength meter under
   each new password marked data-strength-meter. Progressive enhancement: without this
   script the forms work as before, and the server's rules stay the ones that count.
   The texts come translated from this script element's data-* attributes. */
(function () {
  "use strict";
  var text = document.currentScript.dataset;
  var estimator = null;

  function addToggle(input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "password-toggle";
    // The name stays the same; aria-pressed says whether the password is shown.
    button.textContent = text.showLabel;
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", String(show));
    });
    if (input.form) {
      // Hidden again before sending, so no browser keeps it as plain form text.
      input.form.addEventListener("submit", function () {
        input.type = "password";
        button.setAttribute("aria-pressed", "false");
      });
    }
    input.insertAdjacentElement("afterend", button);
    return button;
  }

  /* zxcvbn-ts score 0–4, or null when the library did not load. Built on first use:
     ranking the dictionaries takes a moment. */
  function estimate(password) {
    var zxcvbn = window.zxcvbnts;
    if (!zxcvbn || !zxcvbn.core) { return null; }
    if (!estimator) {
      var common = zxcvbn["language-common"];
      estimator = new zxcvbn.core.ZxcvbnFactory({
        dictionary: Object.assign({}, common.dictionary, zxcvbn["language-pl"].dictionary),
        graphs: common.adjacencyGraphs
      });
    }
    return estimator.check(password).score;
  }

  function addMeter(input, after) {
    var minLength = Number(text.minLength);
    var box = document.createElement("div");
    box.className = "password-strength";
    var bar = document.createElement("div");
    bar.className = "password-strength-bar";
    bar.setAttribute("aria-hidden", "true");
    bar.appendChild(document.createElement("span"));
    var status = document.createElement("p");
    status.className = "password-strength-status";
    status.id = input.id + "_strength";
    status.setAttribute("aria-live", "polite");
    var level = document.createElement("span");
    level.className = "password-strength-level";
    var hint = document.createElement("span");
    hint.className = "password-strength-hint";
    status.append(level, " ", hint);
    box.append(bar, status);
    after.insertAdjacentElement("afterend", box);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + status.id);

    var pending = null;
    function update() {
      var password = input.value;
      if (!password) {
        delete box.dataset.score;
        level.textContent = hint.textContent = "";
        return;
      }
      // Characters as the server counts them (code points, not UTF-16 units).
      var tooShort = Array.from(password).length < minLength;
      var score = estimate(password);
      if (score === null) { score = tooShort ? 0 : 2; }
      if (tooShort) { score = Math.min(score, 1); }
      box.dataset.score = String(score);
      level.textContent = text.strengthLabel + ": " + text["level" + score] + ".";
      hint.textContent = tooShort ? text.tooShort : "";
    }
    input.addEventListener("input", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(update, 150);
    });
  }

  var fields = document.querySelectorAll("input[type=password]");
  Array.prototype.forEach.call(fields, function (input) {
    var button = addToggle(input);
    if (input.hasAttribute("data-strength-meter") && text.minLength) {
      addMeter(input, button);
    }
  });
})();
