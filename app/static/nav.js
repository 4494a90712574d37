// 手机上的“菜单”：没有脚本时它是指向 #menu 的链接（由 CSS 的 :target 显示菜单）；
// 有脚本时换成一个真正的按钮，点一下打开，再点一下或按 Esc 收起，不改变网址。
(function () {
  var link = document.querySelector("[data-menu-button]");
  var menu = document.querySelector("[data-menu]");
  if (!link || !menu) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = link.className;
  button.textContent = link.textContent;
  button.setAttribute("aria-controls", menu.id);
  button.setAttribute("aria-expanded", "false");
  link.replaceWith(button);
  menu.classList.add("menu-js");

  function setOpen(open) {
    menu.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () {
    setOpen(!menu.classList.contains("open"));
  });
  var close = menu.querySelector("[data-menu-close]");
  if (close) {
    close.addEventListener("click", function (event) {
      event.preventDefault();
      setOpen(false);
      button.focus();
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.classList.contains("open")) {
      setOpen(false);
      button.focus();
    }
  });
})();
