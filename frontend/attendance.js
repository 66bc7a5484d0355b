// Progressive enhancement for marking attendance on a tablet: filter as you type, and mark a
// person with one tap without reloading the page. Without JavaScript the same forms post and
// the page reloads at the person's row.
const list = document.querySelector("[data-attendance]");
if (list) {
  const filter = document.querySelector("#filter");
  const rows = [...list.querySelectorAll("[data-person]")];
  filter?.addEventListener("input", () => {
    const term = filter.value.trim().toLowerCase();
    for (const row of rows) row.hidden = term !== "" && !row.dataset.person.includes(term);
  });
  const csrf = document.querySelector("input[name=_csrf_token]")?.value;
  list.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-mark]");
    if (!form) return;
    event.preventDefault();
    const button = event.submitter;
    const body = new URLSearchParams(new FormData(form));
    if (button?.name) body.set(button.name, button.value);
    const response = await fetch(form.action, { method: "POST", body, headers: { "X-CSRFToken": csrf, "Accept": "application/json" } });
    if (!response.ok) { form.submit(); return; }
    const result = await response.json();
    const row = form.closest("[data-person]");
    const tag = row.querySelector("[data-outcome]");
    tag.textContent = result.label;
    tag.className = `govuk-tag ${result.tag}`;
    row.dataset.outcome = result.outcome;
    document.querySelector("#attendance-status").textContent = `${result.name}: ${result.label}`;
    // The tally is a polite live region: read out after the person's mark.
    const counts = document.querySelector("[data-counts]");
    if (counts) counts.textContent = result.counts_text;
  });
}
