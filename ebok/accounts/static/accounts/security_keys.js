// Security keys (WebAuthn): a form with data-webauthn="register" or "authenticate"
// asks the server for options, hands them to the browser's authenticator and posts
// its answer back as JSON. No inline script: the strict CSP allows only this file.
(function () {
  "use strict";
  var script = document.currentScript;

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, function (c) { return c.charCodeAt(0); }).buffer;
  }

  function toText(buffer) {
    var binary = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = withBytes(options.excludeCredentials);
    return { publicKey: options };
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = withBytes(options.allowCredentials);
    return { publicKey: options };
  }

  function credentialJSON(credential) {
    var answer = credential.response;
    var response = { clientDataJSON: toText(answer.clientDataJSON) };
    if (answer.attestationObject) {
      response.attestationObject = toText(answer.attestationObject);
      response.transports = answer.getTransports ? answer.getTransports() : [];
    } else {
      response.authenticatorData = toText(answer.authenticatorData);
      response.signature = toText(answer.signature);
      if (answer.userHandle) response.userHandle = toText(answer.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  function post(form, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value,
      },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || script.dataset.failed);
        return data;
      });
    });
  }

  function show(form, message) {
    var box = form.querySelector("[data-webauthn-error]");
    box.textContent = message;
    box.hidden = false;
  }

  function run(form) {
    var registering = form.dataset.webauthn === "register";
    var name = form.querySelector("[name=name]");
    return post(form, form.dataset.optionsUrl)
      .then(function (options) {
        return registering
          ? navigator.credentials.create(creationOptions(options))
          : navigator.credentials.get(requestOptions(options));
      })
      .then(function (credential) {
        var body = { credential: credentialJSON(credential) };
        if (name) body.name = name.value;
        return post(form, form.dataset.finishUrl, body);
      })
      .then(function (result) { window.location.assign(result.next); });
  }

  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.PublicKeyCredential) {
        show(form, script.dataset.unsupported);
        return;
      }
      if (!form.reportValidity()) return;
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      run(form)
        .catch(function (error) {
          show(form, error instanceof DOMException ? script.dataset.failed : error.message);
        })
        .finally(function () { button.disabled = false; });
    });
  });
})();
