// Asks before something that cannot be undone. With `typeToConfirm`, the user types that word first
// (a topic's name before deleting it), so a stray click cannot do it.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { ApiError } from "../api.ts";
import { ErrorBox } from "./error-box.tsx";

export interface ConfirmDialogProps {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  typeToConfirm?: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const ready = props.typeToConfirm === undefined || typed === props.typeToConfirm;
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (caught) {
      setError(caught as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="dialog-backdrop">
      <div class="dialog" role="dialog" aria-modal="true" aria-label={props.title}>
        <h2>{props.title}</h2>
        <div class="dialog-body">{props.children}</div>
        {props.typeToConfirm !== undefined ? (
          <label class="field">
            <span>
              Type <code>{props.typeToConfirm}</code> to confirm
            </span>
            <input name="confirm" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
          </label>
        ) : null}
        <ErrorBox error={error} title="Not done" />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" class="button danger" onClick={confirm} disabled={!ready || busy}>
            {busy ? "Working…" : props.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
