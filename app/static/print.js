// 打印按钮（data-print）：没有脚本时按钮保持隐藏，用浏览器菜单打印即可；有脚本时显示按钮，
// 点一下打印。微信内置浏览器不能打印，按钮换成一句提示，不留一个点了没反应的按钮。
(function () {
  "use strict";
  var wechat = /MicroMessenger/i.test(navigator.userAgent);
  document.querySelectorAll("[data-print]").forEach(function (button) {
    if (wechat) {
      var hint = document.createElement("span");
      hint.className = "hint print-hint";
      hint.setAttribute("data-print-hint", "");
      hint.textContent = "微信里不能直接打印：请截图保存，或点右上角 ··· 选择“在浏览器打开”后再打印。";
      button.parentNode.replaceChild(hint, button);
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
