/* e-BOK residents' portal: small progressive enhancements (the pages work without them). */
"use strict";

function selectContents(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

/* "Copy" buttons next to bank account numbers: copy the digits only. */
function enableCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy-target]")) {
    const source = document.getElementById(button.dataset.copyTarget);
    if (!source) continue;
    const status = button.parentElement.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", async () => {
      const digits = source.textContent.replace(/\s+/g, "");
      try {
        await navigator.clipboard.writeText(digits);
      } catch (error) {
        // No clipboard API (e.g. plain http): select the number so the user can copy it.
        selectContents(source);
        document.execCommand("copy");
      }
      if (status) status.textContent = button.dataset.copied;
    });
  }
}

document.addEventListener("DOMContentLoaded", enableCopyButtons);
