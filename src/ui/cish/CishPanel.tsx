import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { appStore, effectiveMpp, errorMessage, formatEta, selectActiveSlide, useAppStore, type CishAnalysis } from '../../store';
import type { CheckpointRecord } from '../../store/persistence';
import type { ClusterParams } from '../../workers/cish-protocol';
import { SavedModels } from '../models/SavedModels';
import { buildTileCsv, buildTileGeoJson, type TileTable } from '../../analysis/exports';
import { CISH_DEFAULTS, CISH_FCM_DEFAULTS, CISH_RUN_DEFAULTS } from '../../models/cish/defaults';
import { rankClusters } from '../../models/cish/naming';
import { LatentExplorer } from '../explorer/LatentExplorer';
import { itemColours, panToItem } from '../explorer/explorer-service';
import { downloadBlob, downloadText as download, fileStem as baseName } from '../download';
import { LineChart } from './charts';
import { SelfChecks, checkMark } from '../panels/SelfChecks';
import { cishSelfChecks } from '../../models/cish/checks';
import { MaskEditControls, TrainingRegionControls } from './DrawControls';
import { parseAll, type NumberRule } from './params';
import {
  cancelTraining,
  checkpointFor,
  discardCheckpoint,
  ensureOpen,
  forgetSlide,
  overlayIds,
  overlayVisibility,
  renderMapPng,
  resumeFromCheckpoint,
  runCluster,
  runEncode,
  runFpcSweep,
  runMask,
  runTiles,
  runTrain,
  setOverlayVisible,
  setTrainingPaused,
  setTrainingRegion,
  syncOverlays,
  useModel,
} from './cish-service';
import './cish.css';

// Forget worker state for slides that were closed.
let watching = false;
function watchClosedSlides(): void {
  if (watching) return;
  watching = true;
  appStore.subscribe((state, previous) => {
    if (state.slides === previous.slides) return;
    for (const slide of previous.slides) if (!state.slides.some((s) => s.id === slide.id)) forgetSlide(slide.id);
  });
}

function Field({ label, error, warning, children }: { label: string; error?: string; warning?: string; children: ReactNode }) {
  return (
    <label className="cish-field">
      <span>{label}</span>
      {children}
      {error && <em className="cish-error" role="status">{error}</em>}
      {!error && warning && <em className="cish-warning">{warning}</em>}
    </label>
  );
}

function NumberInput({
  value,
  onChange,
  error,
  testId,
  label,
  disabled,
}: {
  value: string;
  onChange: (v: string) => void;
  error?: string;
  testId?: string;
  label: string;
  disabled?: boolean;
}) {
  return (
    <input
      type="text"
      inputMode="decimal"
      value={value}
      disabled={disabled}
      aria-label={label}
      aria-invalid={error ? 'true' : 'false'}
      data-testid={testId}
      onChange={(e) => onChange(e.currentTarget.value)}
    />
  );
}

function Step({ n, title, done, children }: { n: number; title: string; done: boolean; children: ReactNode }) {
  return (
    <div className={`cish-step${done ? ' done' : ''}`}>
      <h3>
        <span className="cish-step-n">{n}</span> {title} {done && <span className="cish-check" aria-label="done">✓</span>}
      </h3>
      {children}
    </div>
  );
}

type Texts<K extends string> = Record<K, string>;

const TILE_RULES = {
  tileUm: { above: 0, max: 5000 },
  overlapUm: { min: 0 },
  minTissue: { min: 0, max: 1 },
  trainCount: { min: 1, integer: true },
  seed: { min: 0, integer: true },
} satisfies Record<string, NumberRule>;
const TRAIN_RULES = {
  latentDim: { min: 1, max: 64, integer: true },
  batch: { min: 1, max: 256, integer: true },
  epochs: { min: 1, max: 1000, integer: true },
  patience: { min: 0, max: 1000, integer: true },
  maxMinutes: { min: 0, max: 10000 },
  lr: { above: 0, max: 1 },
  median: { min: 0, max: 5, integer: true },
} satisfies Record<string, NumberRule>;
const CLUSTER_RULES = {
  k: { min: 2, max: 50, integer: true },
  m: { above: 1, max: 10 },
  tol: { above: 0, max: 1 },
  seed: { min: 0, integer: true },
  nInit: { min: 1, max: 100, integer: true },
} satisfies Record<string, NumberRule>;

function useTexts<K extends string>(initial: Texts<K>): [Texts<K>, (key: K, value: string) => void] {
  const [texts, setTexts] = useState(initial);
  return [texts, (key, value) => setTexts((t) => ({ ...t, [key]: value }))];
}

function tableOf(analysis: CishAnalysis): TileTable | null {
  const { tiles, latents, labels, memberships } = analysis;
  if (!tiles || !latents) return null;
  return { x: tiles.x, y: tiles.y, width: tiles.width, height: tiles.height, ids: tiles.kept, latents, dim: analysis.latentDim, labels, memberships, k: analysis.k };
}

/** The CISH expression-mapping workflow (seed 000) as numbered steps. */
export function CishPanel() {
  const slide = useAppStore(selectActiveSlide);
  const slideId = slide?.id ?? null;
  const analysis = useAppStore((s) => (slideId ? s.analysis[slideId] : undefined));
  const [openError, setOpenError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [checkpoint, setCheckpoint] = useState<CheckpointRecord | undefined>();
  const [maskText, setMaskText] = useState('20');
  const [tileTexts, setTile] = useTexts({ tileUm: String(CISH_DEFAULTS.tileMicrons), overlapUm: String(CISH_DEFAULTS.overlapMicrons), minTissue: String(CISH_RUN_DEFAULTS.minTissue), trainCount: '500', seed: '0' });
  const [trainTexts, setTrain] = useTexts({
    latentDim: String(CISH_DEFAULTS.latentDim),
    batch: String(CISH_DEFAULTS.batchSize),
    epochs: String(CISH_DEFAULTS.epochs),
    patience: String(CISH_RUN_DEFAULTS.patience),
    maxMinutes: String(CISH_RUN_DEFAULTS.maxMinutes),
    lr: String(CISH_DEFAULTS.learningRate),
    median: '0',
  });
  const [loss, setLoss] = useState<'mse' | 'mae'>(CISH_DEFAULTS.loss);
  const [mode, setMode] = useState<'intensity' | 'od'>(CISH_DEFAULTS.intensityMode);
  const [contrast, setContrast] = useState(false);
  const [fillGlass, setFillGlass] = useState(CISH_RUN_DEFAULTS.glass === 'fill');
  const [clusterMethod, setClusterMethod] = useState<ClusterParams['method']>('fcm');
  const [clusterTexts, setCluster] = useTexts({ k: String(CISH_FCM_DEFAULTS.k), m: String(CISH_FCM_DEFAULTS.m), tol: String(CISH_FCM_DEFAULTS.tol), seed: '0', nInit: String(CISH_FCM_DEFAULTS.nInit) });
  const [exportDs, setExportDs] = useState('8');
  const [shown, setShown] = useState(() => (slideId ? overlayVisibility(slideId) : { mask: true, tiles: true, map: true }));
  const swipe = useAppStore((s) => s.swipe);

  useEffect(() => watchClosedSlides(), []);

  useEffect(() => {
    if (!slideId) return;
    setOpenError(null);
    setShown(overlayVisibility(slideId));
    ensureOpen(slideId)
      .then(async () => {
        syncOverlays(slideId);
        setCheckpoint(await checkpointFor(slideId));
      })
      .catch((error) => setOpenError(errorMessage(error)));
  }, [slideId]);

  const trainFrom = analysis?.trainFrom ?? 'sample';
  const trainRegion = analysis?.trainRegion ?? null;
  const tileParsed = parseAll(tileTexts, TILE_RULES);
  // The sample size only matters when the tiles are sampled.
  if (trainFrom === 'region') delete tileParsed.errors.trainCount;
  if (tileParsed.values.overlapUm !== undefined && tileParsed.values.tileUm !== undefined && !(tileParsed.values.overlapUm < tileParsed.values.tileUm)) {
    tileParsed.errors.overlapUm = 'must be < tile size';
  }
  const trainParsed = parseAll(trainTexts, TRAIN_RULES);
  const batchWarning = trainParsed.values.batch !== undefined && (trainParsed.values.batch < 30 || trainParsed.values.batch > 60) ? 'seed used 30–60' : undefined;
  const clusterParsed = parseAll(clusterTexts, CLUSTER_RULES);
  const maskParsed = parseAll({ ds: maskText }, { ds: { min: 2, max: 200, integer: true } });

  const latentColours = useMemo(() => (analysis ? itemColours(analysis) : null), [analysis]);

  const counts = useMemo(() => {
    if (!analysis?.labels || !analysis.k) return null;
    const c = new Int32Array(analysis.k);
    for (const label of analysis.labels) c[label]++;
    return c;
  }, [analysis?.labels, analysis?.k]);

  const ranks = useMemo(() => {
    if (!analysis?.latents || !analysis.labels || !analysis.k) return null;
    return rankClusters({ ...analysis, latents: analysis.latents, labels: analysis.labels });
  }, [analysis?.latents, analysis?.labels, analysis?.memberships, analysis?.k, analysis?.latentDim, analysis?.densities]);

  // Issue 15: the same checks as the command line's, from what the panel already holds.
  const checks = useMemo(() => {
    if (!analysis?.tiles || !analysis.latents) return null;
    const tiles = analysis.tiles;
    const fractions = Float64Array.from(tiles.kept, (id) => tiles.tissueFraction[id]);
    return cishSelfChecks({
      epochLosses: analysis.history ? Array.from(analysis.history) : [],
      codes: analysis.latents,
      latentDim: analysis.latentDim,
      tissueFractions: analysis.itemKind === 'nucleus' ? [] : fractions,
      stoppedByTimeLimit: analysis.stoppedAtTimeLimit !== null,
      timeLimitMinutes: analysis.stoppedAtTimeLimit ?? 0,
    });
  }, [analysis?.tiles, analysis?.latents, analysis?.latentDim, analysis?.history, analysis?.itemKind, analysis?.stoppedAtTimeLimit]);

  if (!slide || !slideId) {
    return (
      <section className="panel cish-panel" data-testid="cish-panel" aria-labelledby="cish-heading">
        <h2 id="cish-heading">Expression map (CISH)</h2>
        <p className="muted">Open a slide to map expression.</p>
      </section>
    );
  }

  const a = analysis;
  const mpp = effectiveMpp(slide);
  const training = a?.training;
  const running = !!training?.running;
  const guard = async (what: string, action: () => Promise<unknown>) => {
    setBusy(what);
    try {
      await action();
    } catch (error) {
      appStore.getState().pushAlert(`${slide.name}: ${errorMessage(error)}`);
    } finally {
      setBusy(null);
    }
  };
  const hasErrors = (errors: object) => Object.keys(errors).length > 0;

  const startTrain = () => {
    if (hasErrors(trainParsed.errors)) return;
    const v = trainParsed.values;
    const tileValues = tileParsed.values;
    void guard('train', async () => {
      await runTrain(slideId, {
        latentDim: v.latentDim,
        loss,
        batchSize: v.batch,
        epochs: v.epochs,
        patience: v.patience,
        maxMinutes: v.maxMinutes,
        learningRate: v.lr,
        seed: tileValues.seed ?? 0,
        // The mask measured where glass starts; without that level there is nothing to fill.
        preprocess: { mode, median: v.median, contrast, ...(fillGlass && a?.mask?.glassAbove !== undefined ? { glassAbove: a.mask.glassAbove } : {}) },
      });
      setCheckpoint(undefined);
    });
  };

  const clusterValues = clusterParsed.values;
  const setShownLayer = (which: 'mask' | 'tiles' | 'map', visible: boolean) => {
    setOverlayVisible(slideId, which, visible);
    setShown(overlayVisibility(slideId));
  };
  const layerVisible = (which: 'mask' | 'tiles' | 'map') =>
    appStore.getState().overlays.find((l) => l.id === overlayIds(slideId)[which])?.visible ?? false;

  return (
    <section className="panel cish-panel" data-testid="cish-panel" aria-labelledby="cish-heading" data-fingerprint={a?.fingerprint ?? ''}>
      <h2 id="cish-heading">Expression map (CISH)</h2>
      {openError && <p className="cish-error">{openError}</p>}
      {mpp === undefined && <p className="cish-warning">µm/px unknown: set it in the slide info to size tiles.</p>}

      {checkpoint && !running && (
        <div className="cish-resume" data-testid="cish-resume">
          <span>
            Unfinished training: epoch {checkpoint.epochsDone}/{checkpoint.trainParams.epochs} saved.
          </span>
          <button type="button" onClick={() => void guard('train', async () => { const ok = await resumeFromCheckpoint(slideId, checkpoint); if (ok) setCheckpoint(undefined); })}>
            Resume
          </button>
          <button type="button" onClick={() => void discardCheckpoint(slideId).then(() => setCheckpoint(undefined))}>
            Discard
          </button>
        </div>
      )}

      <Step n={1} title="Tissue mask" done={!!a?.mask}>
        <div className="cish-row">
          <Field label="Downscale" error={maskParsed.errors.ds}>
            <NumberInput label="Mask downscale" value={maskText} onChange={setMaskText} error={maskParsed.errors.ds} />
          </Field>
          <button type="button" className="primary-ish" data-testid="cish-mask" disabled={busy !== null || hasErrors(maskParsed.errors)} onClick={() => void guard('mask', () => runMask(slideId, { downscale: maskParsed.values.ds }))}>
            Compute mask
          </button>
        </div>
        {a?.mask && (
          <p className="cish-result" data-testid="cish-mask-result">
            {a.mask.width} × {a.mask.height} mask · threshold {a.mask.threshold.toFixed(1)} ·{' '}
            <label className="cish-inline">
              <input type="checkbox" checked={shown.mask && layerVisible('mask')} onChange={(e) => setShownLayer('mask', e.currentTarget.checked)} /> show
            </label>
          </p>
        )}
        {a?.mask && <MaskEditControls key={slideId} slideId={slideId} slideName={slide.name} mask={a.mask} mpp={mpp} disabled={busy !== null} />}
      </Step>

      <Step n={2} title="Tiles" done={!!a?.tiles}>
        <div className="cish-grid">
          <Field label="Tile µm" error={tileParsed.errors.tileUm}>
            <NumberInput label="Tile size in µm" value={tileTexts.tileUm} onChange={(v) => setTile('tileUm', v)} error={tileParsed.errors.tileUm} />
          </Field>
          <Field label="Overlap µm" error={tileParsed.errors.overlapUm}>
            <NumberInput label="Overlap in µm" value={tileTexts.overlapUm} onChange={(v) => setTile('overlapUm', v)} error={tileParsed.errors.overlapUm} />
          </Field>
          <Field label="Min tissue" error={tileParsed.errors.minTissue}>
            <NumberInput label="Minimum tissue fraction" value={tileTexts.minTissue} onChange={(v) => setTile('minTissue', v)} error={tileParsed.errors.minTissue} testId="cish-min-tissue" />
          </Field>
          <Field label="Seed" error={tileParsed.errors.seed}>
            <NumberInput label="Sampling seed" value={tileTexts.seed} onChange={(v) => setTile('seed', v)} error={tileParsed.errors.seed} />
          </Field>
        </div>
        <fieldset className="cish-train-from" data-testid="cish-train-from" data-value={trainFrom}>
          <legend>Training tiles</legend>
          <div className="cish-row">
            <label className="cish-inline">
              <input
                type="radio"
                name={`cish-train-from-${slideId}`}
                checked={trainFrom === 'sample'}
                disabled={busy !== null || running}
                data-testid="cish-train-from-sample"
                onChange={() => setTrainingRegion(slideId, { trainFrom: 'sample' })}
              />{' '}
              random sample of
            </label>
            <NumberInput label="Training tiles" value={tileTexts.trainCount} onChange={(v) => setTile('trainCount', v)} error={tileParsed.errors.trainCount} testId="cish-train-count" />
            {tileParsed.errors.trainCount && <em className="cish-error" role="status">{tileParsed.errors.trainCount}</em>}
          </div>
          <label className="cish-inline">
            <input
              type="radio"
              name={`cish-train-from-${slideId}`}
              checked={trainFrom === 'region'}
              disabled={busy !== null || running}
              data-testid="cish-train-from-region"
              onChange={() => setTrainingRegion(slideId, { trainFrom: 'region' })}
            />{' '}
            region drawn on the slide
          </label>
          <TrainingRegionControls key={slideId} slideId={slideId} slideName={slide.name} region={trainRegion} mpp={mpp} disabled={busy !== null || running} />
        </fieldset>
        <button
          type="button"
          data-testid="cish-tiles"
          disabled={busy !== null || running || hasErrors(tileParsed.errors) || mpp === undefined || (trainFrom === 'region' && !trainRegion)}
          onClick={() => {
            const v = tileParsed.values;
            const region = trainFrom === 'region' && trainRegion ? { trainRegion } : {};
            void guard('tiles', () =>
              runTiles(slideId, { tileUm: v.tileUm, overlapUm: v.overlapUm, minTissueFraction: v.minTissue, trainCount: v.trainCount ?? 0, seed: v.seed, mppOverride: slide.mppOverride, ...region }),
            );
          }}
        >
          Make tiles
        </button>
        {!a?.mask && <span className="muted"> (without a mask every tile is kept)</span>}
        {trainFrom === 'region' && !trainRegion && <span className="muted"> (draw the training region first)</span>}
        {a?.tiles && (
          <p className="cish-result" data-testid="cish-tiles-result" data-kept={a.tiles.kept.length} data-train={a.tiles.train.length}>
            {a.tiles.columns * a.tiles.rows} tiles · <strong>{a.tiles.kept.length}</strong> kept · {a.tiles.train.length} for training · {Math.round(a.tiles.tileSize0)} px ·{' '}
            <label className="cish-inline">
              <input type="checkbox" checked={shown.tiles && layerVisible('tiles')} onChange={(e) => setShownLayer('tiles', e.currentTarget.checked)} /> show
            </label>
          </p>
        )}
      </Step>

      <Step n={3} title="Train autoencoder" done={!!a?.modelId}>
        <div className="cish-grid">
          <Field label="Latent size" error={trainParsed.errors.latentDim}>
            <NumberInput label="Latent size" value={trainTexts.latentDim} onChange={(v) => setTrain('latentDim', v)} error={trainParsed.errors.latentDim} />
          </Field>
          <Field label="Loss">
            <select value={loss} onChange={(e) => setLoss(e.currentTarget.value as 'mse' | 'mae')} aria-label="Loss">
              <option value="mse">MSE</option>
              <option value="mae">MAE</option>
            </select>
          </Field>
          <Field label="Batch" error={trainParsed.errors.batch} warning={batchWarning}>
            <NumberInput label="Batch size" value={trainTexts.batch} onChange={(v) => setTrain('batch', v)} error={trainParsed.errors.batch} testId="cish-batch" />
          </Field>
          <Field label="Max epochs" error={trainParsed.errors.epochs}>
            <NumberInput label="Epochs" value={trainTexts.epochs} onChange={(v) => setTrain('epochs', v)} error={trainParsed.errors.epochs} testId="cish-epochs" />
          </Field>
          <Field label="Patience" error={trainParsed.errors.patience}>
            <NumberInput label="Stop after this many epochs without a 1 % lower loss (0: run every epoch)" value={trainTexts.patience} onChange={(v) => setTrain('patience', v)} error={trainParsed.errors.patience} testId="cish-patience" />
          </Field>
          <Field label="Max min" error={trainParsed.errors.maxMinutes}>
            <NumberInput label="Stop training after this many minutes (0: no limit)" value={trainTexts.maxMinutes} onChange={(v) => setTrain('maxMinutes', v)} error={trainParsed.errors.maxMinutes} testId="cish-max-minutes" />
          </Field>
          <Field label="Learning rate" error={trainParsed.errors.lr}>
            <NumberInput label="Learning rate" value={trainTexts.lr} onChange={(v) => setTrain('lr', v)} error={trainParsed.errors.lr} />
          </Field>
          <Field label="Input">
            <select value={mode} onChange={(e) => setMode(e.currentTarget.value as 'intensity' | 'od')} aria-label="Input transform">
              <option value="intensity">intensity</option>
              <option value="od">optical density</option>
            </select>
          </Field>
          <Field label="Median r" error={trainParsed.errors.median}>
            <NumberInput label="Median filter radius" value={trainTexts.median} onChange={(v) => setTrain('median', v)} error={trainParsed.errors.median} />
          </Field>
          <Field label="Contrast">
            <input type="checkbox" checked={contrast} onChange={(e) => setContrast(e.currentTarget.checked)} aria-label="Contrast stretch 1–99 %" />
          </Field>
          <Field label="Fill glass">
            <input type="checkbox" checked={fillGlass} onChange={(e) => setFillGlass(e.currentTarget.checked)} aria-label="Fill glass inside tiles with the tile's tissue mean" data-testid="cish-fill-glass" />
          </Field>
        </div>
        <div className="cish-row">
          <button type="button" data-testid="cish-train" disabled={busy !== null || running || !a?.tiles || hasErrors(trainParsed.errors)} onClick={startTrain}>
            Train
          </button>
          {running && (
            <>
              <button type="button" data-testid="cish-pause" onClick={() => setTrainingPaused(slideId, !training!.paused)}>
                {training!.paused ? 'Resume' : 'Pause'}
              </button>
              <button type="button" data-testid="cish-cancel" onClick={() => cancelTraining(slideId)}>
                Cancel
              </button>
            </>
          )}
        </div>
        {training && (
          <div className="cish-result" data-testid="cish-train-status">
            {training.running ? (training.paused ? 'paused · ' : '') : 'finished · '}
            epoch {Math.min(training.epoch + 1, training.epochs)}/{training.epochs} · step {training.step}/{training.stepsPerEpoch ?? '?'}
            {training.stepLoss.length > 0 && ` · loss ${training.stepLoss[training.stepLoss.length - 1].toPrecision(3)}`}
            {training.running && ` · ETA ${formatEta(training.etaSeconds)}`}
          </div>
        )}
        {training && training.stepLoss.length > 0 && <LineChart ys={training.stepLoss} label="Training loss per step" testId="cish-loss-chart" xLabel="steps" />}
        {!training && a?.history && a.history.length > 0 && <LineChart ys={a.history} label="Loss per epoch" testId="cish-loss-chart" xLabel="epochs" />}
        {a?.modelId && <p className="cish-result muted">model {a.modelId}{a.history ? ` · ${a.history.length} epochs · final loss ${a.history[a.history.length - 1]?.toPrecision(3)}` : ''}{a.stoppedAtTimeLimit ? ` · stopped at the ${a.stoppedAtTimeLimit}-minute limit` : ''}</p>}
        <SavedModels
          kind="cish"
          title="Saved models"
          fingerprint={a?.fingerprint}
          onUse={(url) => useModel(slideId, url)}
          guard={(action) => guard('model', action)}
          disabled={running}
          refreshKey={a?.modelId}
          testId="cish-models"
        />
      </Step>

      <Step n={4} title="Encode tiles" done={!!a?.latents}>
        <button type="button" data-testid="cish-encode" disabled={busy !== null || running || !a?.modelId || !a?.tiles} onClick={() => void guard('encode', () => runEncode(slideId))}>
          Encode {a?.tiles ? `${a.tiles.kept.length} tiles` : ''}
        </button>
        {a?.latents && (
          <span className="cish-result" data-testid="cish-encode-result">
            {' '}
            {a.latents.length / Math.max(1, a.latentDim)} codes of size {a.latentDim}
          </span>
        )}
      </Step>

      <Step n={5} title={clusterMethod === 'fcm' ? 'Cluster (fuzzy c-means)' : 'Cluster (k-means)'} done={!!a?.labels}>
        <label className="cish-row">
          Method{' '}
          <select value={clusterMethod} onChange={(e) => setClusterMethod(e.target.value as ClusterParams['method'])} data-testid="cish-cluster-method">
            <option value="fcm">fuzzy c-means (the seed&apos;s)</option>
            <option value="kmeans">k-means (hard clusters)</option>
          </select>
        </label>
        <div className="cish-grid">
          <Field label="K" error={clusterParsed.errors.k}>
            <NumberInput label="Clusters K" value={clusterTexts.k} onChange={(v) => setCluster('k', v)} error={clusterParsed.errors.k} testId="cish-k" />
          </Field>
          <Field label="m" error={clusterParsed.errors.m}>
            <NumberInput label="Fuzziness m" value={clusterTexts.m} onChange={(v) => setCluster('m', v)} error={clusterParsed.errors.m} disabled={clusterMethod !== 'fcm'} />
          </Field>
          <Field label="tol" error={clusterParsed.errors.tol}>
            <NumberInput label="Tolerance" value={clusterTexts.tol} onChange={(v) => setCluster('tol', v)} error={clusterParsed.errors.tol} disabled={clusterMethod !== 'fcm'} />
          </Field>
          <Field label="Seed" error={clusterParsed.errors.seed}>
            <NumberInput label="Clustering seed" value={clusterTexts.seed} onChange={(v) => setCluster('seed', v)} error={clusterParsed.errors.seed} />
          </Field>
          <Field label="Starts" error={clusterParsed.errors.nInit}>
            <NumberInput label="Random starts (lowest objective wins)" value={clusterTexts.nInit} onChange={(v) => setCluster('nInit', v)} error={clusterParsed.errors.nInit} />
          </Field>
        </div>
        <div className="cish-row">
          <button type="button" data-testid="cish-cluster" disabled={busy !== null || !a?.latents || hasErrors(clusterParsed.errors)} onClick={() => void guard('cluster', () => runCluster(slideId, { method: clusterMethod, k: clusterValues.k, m: clusterValues.m, tol: clusterValues.tol, seed: clusterValues.seed, nInit: clusterValues.nInit }))}>
            Cluster
          </button>
          <button type="button" data-testid="cish-fpc" disabled={busy !== null || !a?.latents || hasErrors(clusterParsed.errors)} onClick={() => void guard('fpc', () => runFpcSweep(slideId, { method: 'fcm', m: clusterValues.m, tol: clusterValues.tol, seed: clusterValues.seed, nInit: clusterValues.nInit }))}>
            FPC for K = 2…12
          </button>
        </div>
        {a?.fpc != null && a.labels && <p className="cish-result">K = {a.k} · FPC {a.fpc.toFixed(3)}</p>}
        {a?.fpcCurve && (
          <LineChart ys={a.fpcCurve.fpc} xs={a.fpcCurve.k} label="Fuzzy partition coefficient against K" testId="cish-fpc-chart" markX={a.k || undefined} xLabel="K" yFormat={(v) => v.toFixed(2)} />
        )}
      </Step>

      <Step n={6} title="Map" done={!!a?.labels}>
        {a?.labels && a.clusterColors && counts && ranks ? (
          <>
            <SelfChecks checks={checks} testId="cish-checks" />
            <ol className="cish-legend" data-testid="cish-legend" title={`Expression levels${checkMark(checks)}`} data-checks={checks && checks.length > 0 ? checks.map((c) => c.severity).join(' ') : 'ok'}>
              {Array.from({ length: a.k }, (_, j) => j)
                .sort((p, q) => ranks[p] - ranks[q])
                .map((j) => (
                  <li key={j}>
                    <span className="cish-swatch" style={{ background: `rgb(${a.clusterColors![3 * j]},${a.clusterColors![3 * j + 1]},${a.clusterColors![3 * j + 2]})` }} />
                    Expression {ranks[j] + 1} <span className="muted">(cluster {j})</span> <span className="cish-count">{counts[j]}</span>
                  </li>
                ))}
            </ol>
            <div className="cish-grid">
              <Field label="Show map">
                <input type="checkbox" checked={shown.map && layerVisible('map')} onChange={(e) => setShownLayer('map', e.currentTarget.checked)} aria-label="Show the expression map" />
              </Field>
              <Field label="Swipe">
                <input
                  type="checkbox"
                  checked={swipe !== null}
                  data-testid="cish-swipe"
                  aria-label="Swipe: the map left of a divider you drag, the slide on the right"
                  onChange={(e) => appStore.getState().setSwipe(e.currentTarget.checked ? 0.5 : null)}
                />
              </Field>
              <Field label="Opacity">
                <input
                  type="range"
                  min={0}
                  max={1}
                  step={0.05}
                  value={a.mapOpacity}
                  data-testid="cish-map-opacity"
                  aria-label="Map opacity"
                  onChange={(e) => {
                    const opacity = Number(e.currentTarget.value);
                    appStore.getState().patchAnalysis(slideId, { mapOpacity: opacity });
                    appStore.getState().updateOverlay(overlayIds(slideId).map, { opacity });
                  }}
                />
              </Field>
              <Field label="Membership → alpha">
                <input
                  type="checkbox"
                  checked={a.membershipAlpha}
                  aria-label="Membership modulates alpha"
                  onChange={(e) => {
                    appStore.getState().patchAnalysis(slideId, { membershipAlpha: e.currentTarget.checked });
                    syncOverlays(slideId);
                  }}
                />
              </Field>
              <Field label="PNG downsample" error={parseAll({ d: exportDs }, { d: { min: 1, max: 1024 } }).errors.d}>
                <NumberInput label="Map PNG downsample" value={exportDs} onChange={setExportDs} />
              </Field>
            </div>
            <div className="cish-row">
              <button
                type="button"
                data-testid="cish-export-map"
                onClick={() => {
                  const parsed = parseAll({ d: exportDs }, { d: { min: 1, max: 1024 } });
                  if (hasErrors(parsed.errors)) return;
                  void guard('png', async () => downloadBlob(await renderMapPng(slideId, parsed.values.d), `${baseName(slide.name)}-expression-map.png`));
                }}
              >
                Map PNG
              </button>
              <button
                type="button"
                data-testid="cish-export-csv"
                onClick={() => {
                  const table = tableOf(a);
                  if (table) download(buildTileCsv(table), `${baseName(slide.name)}-cish-tiles.csv`, 'text/csv');
                }}
              >
                CSV
              </button>
              <button
                type="button"
                data-testid="cish-export-geojson"
                onClick={() => {
                  const table = tableOf(a);
                  if (table) download(JSON.stringify(buildTileGeoJson(table, a.clusterColors!, ranks)), `${baseName(slide.name)}-cish-tiles.geojson`, 'application/geo+json');
                }}
              >
                GeoJSON
              </button>
            </div>
          </>
        ) : (
          <p className="muted">Cluster the codes to draw the map.</p>
        )}
        {a?.latents && latentColours && (
          <LatentExplorer analysisKey={slideId} slideName={slide.name} analysis={a} colours={latentColours} onPick={(row) => panToItem(a, row)} />
        )}
      </Step>
    </section>
  );
}
