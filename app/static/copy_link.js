// 微信中下载时的“复制链接”按钮：先用剪贴板接口，不行再选中输入框里的链接复制；
// 都不行时提示长按链接复制。没有脚本时按钮保持隐藏，链接在输入框里可以长按选中。
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-link]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-link"));
    var status = document.querySelector("[data-copy-status]");
    if (!input) { return; }
    button.hidden = false;
    function say(text) { if (status) { status.textContent = text; } }
    function bySelection() {
      input.focus();
      input.select();
      input.setSelectionRange(0, input.value.length);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? "已复制链接，请到浏览器地址栏粘贴打开。" : "请长按上面的链接，全选后复制。");
    }
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () {
          say("已复制链接，请到浏览器地址栏粘贴打开。");
        }, bySelection);
      } else {
        bySelection();
      }
    });
    input.addEventListener("focus", function () { input.select(); });
  });
})();
