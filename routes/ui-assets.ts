// The admin UI's script and stylesheet, bundled at transpile time by a Bun macro (see
// lib/platform/ui-bundle.ts): in the compiled executable this module is just the bundle's text.
import { bundleUi } from "../lib/platform/ui-bundle.ts" with { type: "macro" };

export const UI_BUNDLE = bundleUi();
