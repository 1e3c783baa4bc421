// swi portal: small improvements where JavaScript runs; every page works without it.
// A button with data-confirm asks before its form is sent.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  var text = b && b.getAttribute("data-confirm");
  if (text && !window.confirm(text)) { e.preventDefault(); }
});

// An upload form posts the file straight to the document store and works without script.
// Where WebCrypto runs, the page hashes the file first and PUTs exactly those bytes to a
// presigned URL (the store refuses any others), then tells the portal the hash. If anything
// in that path fails before the bytes are stored, the plain form is sent instead (its type is
// then told by the file's first bytes on the server).
var swiTypes = { pdf: "application/pdf", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png",
  tif: "image/tiff", tiff: "image/tiff", csv: "text/csv",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" };
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (!form.hasAttribute || !form.hasAttribute("data-store-upload") || form.dataset.plain) { return; }
  var input = form.querySelector("input[type=file]");
  var file = input && input.files && input.files[0];
  if (!file || !window.crypto || !window.crypto.subtle || !window.fetch) { return; }
  e.preventDefault();
  var status = document.getElementById("upload-status");
  var alertBox = document.getElementById("upload-error");
  var say = function (t) { if (status) { status.textContent = t; } };
  var fail = function (t) {
    say("");
    if (alertBox) { alertBox.textContent = t; alertBox.hidden = false; alertBox.focus(); }
  };
  var plain = function () { form.dataset.plain = "1"; form.submit(); };
  var button = form.querySelector("button[type=submit]");
  if (button) { button.disabled = true; }
  say("正在计算文件校验值……");
  file.arrayBuffer().then(function (bytes) {
    return window.crypto.subtle.digest("SHA-256", bytes).then(function (d) {
      var hex = Array.prototype.map.call(new Uint8Array(d), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      say("正在上传……");
      return fetch("/uploads/put", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
        body: JSON.stringify({ to: form.dataset.to, sha256: hex, size: file.size,
                               content_type: swiTypes[(file.name.split(".").pop() || "").toLowerCase()]
                                 || file.type || "application/octet-stream" })
      }).then(function (r) {
        return r.json().then(function (body) {
          if (r.status === 415) { plain(); return null; }
          if (!r.ok) {
            if (button) { button.disabled = false; }
            fail((body && body.error && body.error.zh) || "无法上传该文件。");
            return null;
          }
          var headers = {};
          Object.keys(body.headers || {}).forEach(function (k) {
            if (k.toLowerCase() !== "content-length" && k.toLowerCase() !== "host") { headers[k] = body.headers[k]; }
          });
          return fetch(body.url, { method: "PUT", headers: headers, body: bytes }).then(function (put) {
            if (!put.ok) { plain(); return null; }
            var done = document.createElement("form");
            done.method = "post";
            done.action = "/uploads/done";
            [["csrf", form.dataset.csrf], ["to", form.dataset.to], ["sha256", hex]].forEach(function (kv) {
              var i = document.createElement("input");
              i.type = "hidden"; i.name = kv[0]; i.value = kv[1];
              done.appendChild(i);
            });
            document.body.appendChild(done);
            say("上传完成，正在归档……");
            done.submit();
            return null;
          });
        });
      });
    });
  }).catch(function () { plain(); });
});
