// The widget's words, one table per language (English and German ship), picked by the closest
// `lang` (the element's, else the document's); a widget's `strings` property overrides any
// entry. A label is normalised before it is shown ("  Ankle-Boot " reads "an ankle boot").
// Numbers are written the language's way (toLocaleString).

/** The ten garments in index order: a copy of the crate's data::CLASS_NAMES, needed before any
 * wasm loads (held to it by tests/architecture.rs). */
export const CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"];

/**
 * Each language: `garments` (per class: `a` as the object of "Generate ___", `one` alone, and
 * `of` as "of N% of ___ generations" needs it), `locale` (for numbers), then the texts; a function takes what its
 * text shows.
 */
export const STRINGS = {
  en: {
    garments: {
      "t-shirt": { a: "a T-shirt", one: "T-shirt", of: "T-shirt" }, trouser: { a: "a pair of trousers", one: "pair of trousers", of: "trouser" },
      pullover: { a: "a pullover", one: "pullover", of: "pullover" }, dress: { a: "a dress", one: "dress", of: "dress" },
      coat: { a: "a coat", one: "coat", of: "coat" }, sandal: { a: "a sandal", one: "sandal", of: "sandal" },
      shirt: { a: "a shirt", one: "shirt", of: "shirt" }, sneaker: { a: "a sneaker", one: "sneaker", of: "sneaker" },
      bag: { a: "a bag", one: "bag", of: "bag" }, "ankle-boot": { a: "an ankle boot", one: "ankle boot", of: "ankle boot" },
    },
    locale: "en",
    generate: (g) => `Generate ${g.a} with its uncertainty`,
    name: (g) => `a generated ${g.one} with its uncertainty heatmap`,
    image: "image",
    imageName: (g, seed) => `a generated ${g.one} (seed ${seed})`,
    heatmapName: (n, levels) => `where the ${n} images differ: up to ${levels} grey levels`,
    colourScale: (top) => `colour scale: standard deviation from 0 to ${top} grey levels`,
    uncertainty: "uncertainty (std, grey levels)",
    uncertaintyTitle: "where the images differ: over the garment itself; by eye, it does not point at where a generation is broken",
    loading: "loading genuq",
    retry: "Retry",
    cpu: "running on the CPU",
    percent: (p) => `${p}%`,
    further: (p, of) => `further from real garments than ${p} of ${of} generations`,
    uncertain: (p, of) => `more uncertain than ${p} of ${of} generations`,
    flagged: (p) => `flagged: ${p} of generations scored like this were the wrong garment in our evaluation`,
  },
  de: {
    garments: {
      "t-shirt": { a: "ein T-Shirt", one: "T-Shirt", of: "T-Shirts" }, trouser: { a: "eine Hose", one: "Hose", of: "Hosen" },
      pullover: { a: "einen Pullover", one: "Pullover", of: "Pullover" }, dress: { a: "ein Kleid", one: "Kleid", of: "Kleider" },
      coat: { a: "einen Mantel", one: "Mantel", of: "Mäntel" }, sandal: { a: "eine Sandale", one: "Sandale", of: "Sandalen" },
      shirt: { a: "ein Hemd", one: "Hemd", of: "Hemden" }, sneaker: { a: "einen Sneaker", one: "Sneaker", of: "Sneaker" },
      bag: { a: "eine Tasche", one: "Tasche", of: "Taschen" }, "ankle-boot": { a: "eine Stiefelette", one: "Stiefelette", of: "Stiefeletten" },
    },
    locale: "de",
    generate: (g) => `${g.a} mit Unsicherheit erzeugen`,
    name: (g) => `erzeugt: ${g.one}, mit Unsicherheitskarte`,
    image: "Bild",
    imageName: (g, seed) => `erzeugt: ${g.one} (Seed ${seed})`,
    heatmapName: (n, levels) => `wo sich die ${n} Bilder unterscheiden: bis zu ${levels} Graustufen`,
    colourScale: (top) => `Farbskala: Standardabweichung von 0 bis ${top} Graustufen`,
    uncertainty: "Unsicherheit (Std.-Abw., Graustufen)",
    uncertaintyTitle: "wo sich die Bilder unterscheiden: über dem Kleidungsstück selbst; nach Augenschein zeigt sie nicht, wo eine Erzeugung fehlerhaft ist",
    loading: "genuq lädt",
    retry: "Erneut versuchen",
    cpu: "läuft auf der CPU",
    percent: (p) => `${p} %`,
    further: (p, of) => `weiter von echten Kleidungsstücken entfernt als ${p} der erzeugten ${of}`,
    uncertain: (p, of) => `unsicherer als ${p} der erzeugten ${of}`,
    flagged: (p) => `markiert: ${p} der so bewerteten Erzeugungen waren in unserer Auswertung das falsche Kleidungsstück`,
  },
};

/** The language of `STRINGS` closest to the BCP 47 tag `lang` ("de-AT" -> "de"; else "en"). */
export function language(lang) {
  const tag = String(lang ?? "").trim().toLowerCase();
  if (tag in STRINGS) return tag;
  const base = tag.split(/[-_]/)[0];
  return base in STRINGS ? base : "en";
}

/** The strings of the language closest to `lang`, each entry of `overrides` in place of its own. */
export function stringsFor(lang, overrides) {
  const own = STRINGS[language(lang)];
  return { ...own, ...(overrides ?? {}), garments: { ...own.garments, ...(overrides?.garments ?? {}) } };
}

/** A label as typed ("  Ankle-Boot ", "ankle boot", "9") -> its class name ("ankle-boot"), or
 * the trimmed text when it names no class. */
export function normaliseLabel(label) {
  const text = String(label ?? "").trim();
  if (/^\d+$/.test(text) && Number(text) < CLASSES.length) return CLASSES[Number(text)];
  const key = text.toLowerCase().replace(/[\s_]+/g, "-");
  return CLASSES.includes(key) ? key : text;
}

/** How `strings` name a garment (`label` normalised first): {a, one, of}; an unknown label as typed. */
export function garmentWords(strings, label) {
  const name = normaliseLabel(label);
  const typed = `“${name}”`;
  return strings.garments[name] ?? { a: typed, one: typed, of: typed };
}

/** `text` with its first letter upper-case (a sentence's start). */
export function sentence(text) {
  return text.charAt(0).toLocaleUpperCase() + text.slice(1);
}
