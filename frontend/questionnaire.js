// Progressive enhancement for the questionnaire's pages. Without JavaScript every box shows
// (labelled "If no…", "If Other…") and each page saves when a button is pressed.
// 1. Reveal only what an answer needs: an element with data-reveal-when="name=value|name=value"
//    shows while one of those radios or checkboxes is checked.
// 2. Keep what was typed whatever link is followed: when the page is left with changes not yet
//    saved, they are sent (navigator.sendBeacon, with the form's CSRF token) as an autosave.
const form = document.querySelector("form[data-questionnaire-page]");
if (form) {
  const reveals = [...form.querySelectorAll("[data-reveal-when]")];
  const update = () => {
    for (const box of reveals) {
      const wanted = box.dataset.revealWhen.split("|").map((pair) => pair.split("="));
      box.hidden = !wanted.some(([name, value]) => form.querySelector(`input[name="${name}"][value="${value}"]`)?.checked);
    }
  };
  form.addEventListener("change", update);
  update();

  let dirty = false;
  let sending = false;
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("change", () => { dirty = true; });
  form.addEventListener("submit", () => { sending = true; });
  window.addEventListener("pagehide", () => {
    if (!dirty || sending) return;
    const body = new FormData(form);
    body.set("action", "autosave");
    navigator.sendBeacon(form.action, new URLSearchParams(body));
  });
}

// "Print this page": the browser's own print (without JavaScript, the link goes to the answers).
document.querySelector("[data-print]")?.addEventListener("click", (event) => {
  event.preventDefault();
  window.print();
});
