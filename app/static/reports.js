// 报表页的“打印”按钮：没有脚本时按钮保持隐藏，用浏览器菜单打印即可。
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});
