// Progressive enhancement of the booking form's "Name of school or setting": suggestions from
// the settings register as you type (alphagov's accessible-autocomplete), filling in the URN.
// Without JavaScript the plain input works and the service matches the name or URN itself.
const input = document.querySelector("#setting_name[data-autocomplete]");
const urn = document.querySelector("#setting_urn");
if (input && window.accessibleAutocomplete) {
  const container = document.createElement("div");
  input.insertAdjacentElement("afterend", container);
  const current = input.value;
  input.remove();
  let timer;
  window.accessibleAutocomplete({
    element: container,
    id: "setting_name",
    name: "setting_name",
    defaultValue: current,
    minLength: 2,
    confirmOnBlur: false,
    showNoOptionsFound: false,
    source(query, populate) {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const response = await fetch(`/api/settings?q=${encodeURIComponent(query)}`);
        populate(response.ok ? await response.json() : []);
      }, 150);
    },
    templates: {
      inputValue: (s) => (s && s.name) || "",
      suggestion: (s) => (typeof s === "string" ? s : `${s.name}${s.urn ? ` (URN ${s.urn})` : ""}`),
    },
    onConfirm(selected) {
      if (selected && urn) urn.value = selected.urn || "";
    },
  });
}
