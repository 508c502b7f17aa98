import type { Cloud } from "../components/config";
import type { FlavourOptions, LocalFlavour } from "./flavour";
import type { PreviewFakes } from "./preview/fakes";
import { startAwsFlavour } from "./aws/flavour";
import { awsPreviewFakes } from "./aws/previewFakes";
import { startAzureFlavour } from "./azure/flavour";
import { azurePreviewFakes } from "./azure/previewFakes";

/**
 * Every cloud's part in the local tools: its flavour (emulators + engine, for
 * `npm start`, the tests and the benchmark) and its fakes for the offline preview.
 * A new cloud adds local/<cloud>/ and one entry here; the compiler asks for it
 * once the cloud is in CLOUDS (components/config.ts).
 */
export interface LocalCloud {
  /** How the local run describes the flavour. */
  describe: string;
  /** Starts the flavour's emulators and engine. */
  start(options: FlavourOptions): Promise<LocalFlavour>;
  previewFakes: PreviewFakes;
}

export const LOCAL_CLOUDS: Readonly<Record<Cloud, LocalCloud>> = {
  aws: {
    describe: "AWS (ASL engine, s3rver, dynalite)",
    start: startAwsFlavour,
    previewFakes: awsPreviewFakes,
  },
  azure: {
    describe: "Azure (Durable replay, azurite)",
    start: startAzureFlavour,
    previewFakes: azurePreviewFakes,
  },
};
