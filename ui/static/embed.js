/* Paste into an article page:
 *   <script src="https://HOST/embed.js" data-height="600"></script>
 * Inserts the chat widget (an iframe of HOST/embed) right after the script tag.
 * Optional data-kinds="report,news" makes the widget search only those kinds of source. */
(function () {
  var script = document.currentScript;
  if (!script) { return; }
  var height = parseInt(script.getAttribute("data-height") || "600", 10);
  if (!(height > 200 && height < 4000)) { height = 600; }
  var frame = document.createElement("iframe");
  var src = new URL("embed", script.src);
  var kinds = (script.getAttribute("data-kinds") || "").split(",").map(function (k) {
    return k.trim();
  }).filter(function (k) { return /^[a-z0-9-]{1,40}$/.test(k); });
  if (kinds.length) { src.searchParams.set("kinds", kinds.join(",")); }
  frame.src = src.href;
  frame.title = script.getAttribute("data-title") || "Ask the zero-tolerance report";
  frame.style.width = "100%";
  frame.style.height = height + "px";
  frame.style.border = "1px solid #d0d4da";
  frame.style.borderRadius = "6px";
  frame.style.boxSizing = "border-box";
  frame.setAttribute("loading", "lazy");
  frame.setAttribute("allow", "clipboard-write");  // the widget's Copy buttons
  frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
