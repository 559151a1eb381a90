/* "Copy" actions of the chat and the widget: a click on any element with a
 * data-copy attribute puts that attribute's text on the clipboard. The text is
 * computed by the server (ui/cite_text.py); nothing is formatted here. */
(function () {
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = document.execCommand("copy");
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallback(text); });
    }
    return fallback(text);
  }

  function flash(button, label) {
    var before = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", before);
    button.textContent = label;
    setTimeout(function () { button.textContent = before; }, 1500);
  }

  document.addEventListener("click", function (ev) {
    var target = ev.target && ev.target.closest ? ev.target.closest("[data-copy]") : null;
    if (!target) { return; }
    ev.preventDefault();
    copy(target.getAttribute("data-copy")).then(function () { flash(target, "Copied"); },
                                               function () { flash(target, "Copy failed"); });
  });
})();
