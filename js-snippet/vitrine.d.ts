// Types for Vitrine's browser snippet: the `window.vitrine` handle, the `vitrine:applied` event and
// the ES module entry. The snippet itself needs no configuration in code: it reads the page's
// `data-vitrine-*` markup (docs/markup.md). docs/js-api.md documents every member with examples.

/** Where a placement stands in an experiment. */
export interface VitrineExperiment {
  experiment: string;
  arm: string;
  /** True for the holdout: the visitor sees the shop's default and is reported as held out. */
  holdout: boolean;
  /** The visitor's position in [0, 1), in 10,000 buckets (FNV-1a of salt and visitor id). */
  bucket: number;
}

/** One `data-vitrine-slot`: which variant fills it and the text of each field. */
export interface VitrineSlotDecision {
  slot: string;
  /** `null` when no variant matched: the shop's default content stays. */
  variant: string | null;
  /** Field name → plain text (never HTML). URL fields end in `href` (`cta_href`). */
  fields: Record<string, string>;
  /** Left as the shop served it (an experiment's default arm, or a rule only the edge evaluates). */
  keep?: true;
  experiment?: VitrineExperiment;
}

/** One `data-vitrine-list`: its items in the decided order. */
export interface VitrineListDecision {
  list: string;
  items: string[];
  /** The CSS `order` of each item, in the page's original item order. */
  keys: number[];
  keep?: true;
  experiment?: VitrineExperiment;
}

/** A recommended product: the catalog's fields as text, prices formatted. */
export interface VitrineProduct {
  id: string;
  title?: string;
  link?: string;
  price?: string;
  image_link?: string;
  product_type?: string;
  brand?: string;
  [field: string]: string | undefined;
}

export type VitrineStrategy = "also_bought" | "also_viewed" | "similar" | "for_you" | "popular" | "trending" | "recently_viewed";

/** One `data-vitrine-recs` widget: the products that fill it. */
export interface VitrineRecsDecision {
  widget: string;
  /** Absent when the page asked for a strategy this version does not know (then `keep`). */
  strategy?: VitrineStrategy;
  items: VitrineProduct[];
  keep?: true;
  experiment?: VitrineExperiment;
}

/** What the engine decided for the page: one entry per placement, in document order. */
export interface VitrineDecision {
  v: 1;
  slots: VitrineSlotDecision[];
  lists: VitrineListDecision[];
  recs: VitrineRecsDecision[];
}

/** The page's placements as the snippet reads them (raw `data-vitrine-*` attribute values). */
export interface VitrineRequest {
  page: Record<string, string>;
  slots: string[];
  lists: { list: string; items: string[] }[];
  recs: Record<string, string>[];
}

/** Milliseconds from `performance.now()`. */
export interface VitrineTiming {
  /** When the loader started. */
  start: number;
  /** When the first decision was applied. */
  applied: number;
  /** `applied - start`. */
  ms: number;
  /** When the Wasm and the bundle had been fetched. */
  inputs?: number;
  /** When the engine had compiled and loaded the bundle (in its worker). */
  engine?: number;
}

/** `window.vitrine`: set once the first decision is applied (then `vitrine:applied` fires). */
export interface Vitrine {
  version: 1;
  timing: VitrineTiming;
  /** The decision last applied, `null` if the page could not be decided (it stays as served). */
  decision: VitrineDecision | null;
  /** The page's placements as they are now. */
  request(): VitrineRequest;
  /** Reads the page again and applies a new decision: call it after adding placements. */
  refresh(): Promise<VitrineDecision | null>;
  /**
   * Consent as Google Consent Mode's `personalization_storage` says it (the snippet also reads
   * `gtag('consent', …)` from the `dataLayer` by itself). `isDefault`: a `default`, not an `update`;
   * a default of denied does not override consent a profile records.
   */
  consent(granted: boolean, isDefault?: boolean): void;
  /** Wipes everything the snippet stored and decides the page again as an anonymous visitor. */
  forget(): Promise<VitrineDecision | null>;
}

declare global {
  interface Window {
    /** Vitrine's handle, once the first decision is applied. */
    vitrine?: Vitrine;
  }
  interface DocumentEventMap {
    /** Fires after every decision is applied (the first, `refresh()`, consent changes, live events). */
    "vitrine:applied": CustomEvent<VitrineDecision | null>;
  }
}

/**
 * The ES module entry (`import { ready } from "@vitrine/snippet"`): starts the snippet, which then
 * loads its worker and Wasm from beside the module. Resolves with `window.vitrine` once the first
 * decision is applied; stays pending if Vitrine fails open (the page then stays as served).
 */
export declare const ready: Promise<Vitrine>;
