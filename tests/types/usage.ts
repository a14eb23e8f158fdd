// Compiles against js-snippet/vitrine.d.ts (scripts/test.sh runs `tsc -p tests/types`): what a
// shop's TypeScript does with the snippet, and (`@ts-expect-error`) what the types must refuse.
import { ready, type Vitrine, type VitrineDecision } from "@vitrine/snippet";

ready.then((vitrine: Vitrine) => {
  const ms: number = vitrine.timing.ms;
  const hero = vitrine.decision?.slots.find((s) => s.slot === "hero");
  const headline: string | undefined = hero?.fields["headline"];
  const held: boolean = hero?.experiment?.holdout ?? false;
  console.log(ms, headline, held);
  vitrine.consent(true);
  vitrine.consent(false, true);
  // @ts-expect-error consent takes a boolean, not Consent Mode's string
  vitrine.consent("granted");
  return vitrine.refresh();
});

document.addEventListener("vitrine:applied", (event) => {
  const decision: VitrineDecision | null = event.detail;
  for (const widget of decision?.recs ?? []) {
    const titles: (string | undefined)[] = widget.items.map((item) => item.title);
    if (widget.strategy === "also_bought" || widget.keep) console.log(titles);
    // @ts-expect-error no such strategy
    if (widget.strategy === "bought_together") console.log(titles);
  }
  for (const list of decision?.lists ?? []) {
    const order: number[] = list.keys;
    console.log(list.items.length === order.length);
  }
});

async function forgetMe(): Promise<void> {
  const decision = await window.vitrine?.forget();
  console.log(decision?.v === 1, window.vitrine?.request().slots);
  // @ts-expect-error forget takes no arguments
  await window.vitrine?.forget(true);
}
void forgetMe();

// The snippet sets `data-vitrine-ready` on <html> once applied.
const settled: boolean = document.documentElement.hasAttribute("data-vitrine-ready");
console.log(settled);
