// Passkeys (WebAuthn): run the browser's ceremony the page asks for and
// post its answer in the page's form. The options come from the server in
// a data attribute (the CSP allows no inline script); the answer goes back
// as JSON in a hidden field. Without JavaScript or WebAuthn the page says
// passkeys need a browser that supports them.
(function () {
  "use strict";
  function b64u(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function toB64u(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(o) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    }
    o.challenge = b64u(o.challenge);
    o.user.id = b64u(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = b64u(c.id); });
    return o;
  }
  function requestOptions(o) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    }
    o.challenge = b64u(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = b64u(c.id); });
    return o;
  }
  function toJSON(cred) {
    if (cred.toJSON) { return cred.toJSON(); }
    var r = cred.response, out = { id: cred.id, rawId: toB64u(cred.rawId), type: cred.type, response: {
      clientDataJSON: toB64u(r.clientDataJSON) }, clientExtensionResults: cred.getClientExtensionResults() };
    if (r.attestationObject) { out.response.attestationObject = toB64u(r.attestationObject); }
    if (r.authenticatorData) {
      out.response.authenticatorData = toB64u(r.authenticatorData);
      out.response.signature = toB64u(r.signature);
      if (r.userHandle) { out.response.userHandle = toB64u(r.userHandle); }
    }
    return out;
  }
  function run(button, ceremony) {
    var form = document.getElementById(button.getAttribute("data-form"));
    var field = form.querySelector("[name=" + button.getAttribute("data-field") + "]");
    var status = document.getElementById("passkey-status");
    button.addEventListener("click", function (ev) {
      ev.preventDefault();
      var opts = JSON.parse(button.getAttribute("data-options"));
      opts = opts.publicKey || opts;
      var call = ceremony === "create" ?
        navigator.credentials.create({ publicKey: creationOptions(opts) }) :
        navigator.credentials.get({ publicKey: requestOptions(opts) });
      call.then(function (cred) {
        field.value = JSON.stringify(toJSON(cred));
        form.submit();
      }).catch(function (e) {
        if (status) { status.textContent = status.getAttribute("data-failed") + " (" + e.name + ")"; }
      });
    });
    button.disabled = false;
  }
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }
  var c = document.getElementById("passkey-create");
  if (c) { run(c, "create"); }
  var g = document.getElementById("passkey-get");
  if (g) { run(g, "get"); }
})();
