import { useMemo, useState } from 'react';
import { appStore, effectiveMpp, errorMessage, nucleiAnalysisKey, selectActiveSlide, useAppStore } from '../../store';
import { MIN_EXAMPLES_PER_CLASS, selectionColour } from '../../analysis/selections';
import type { ClassifierInfo, ClassifierPlanInfo } from '../../workers/cish-protocol';
import { parseAll } from '../cish/params';
import { LineChart } from '../cish/charts';
import { LatentExplorer } from '../explorer/LatentExplorer';
import { itemColours, panToItem } from '../explorer/explorer-service';
import { SHAPE_PATCH_UM, classifierAnalysisKey, classifierMapLayerId, classifySlide, confidenceLayerId, imagesTrainingSet, shapesTrainingSet, trainClassifier, trainingSetOf, useClassifier, type SlideClassification, type TrainingSet } from './classifier-service';
import { ShapeExamples } from './ShapeExamples';
import { SelfChecks, checkMark } from '../panels/SelfChecks';
import { classMapSelfChecks } from '../../models/classifier/checks';
import { DEFAULT_NORMALISATION, type Normalisation } from '../../models/classifier/dataset';
import { SavedModels, reportingTo } from '../models/SavedModels';

type Source = 'tiles' | 'nuclei' | 'shapes' | 'images';

/**
 * Few-label classifiers of seed 002 (Mobincep, OrgaNet): trained on the
 * classes ticked as labelled in the latent explorer, scored on a held-out
 * fifth of them (accuracy, per-class precision / sensitivity / F1, confusion
 * matrix, ROC with micro and macro AUC), then applied to every tissue tile of
 * this or another open slide as a class map with areas and a confidence map.
 */

const RULES = {
  inputSize: { min: 16, max: 512, integer: true },
  width: { min: 0.05, max: 1 },
  epochs: { min: 1, max: 500, integer: true },
  batch: { min: 1, max: 128, integer: true },
  patience: { min: 0, max: 100, integer: true },
  patch: { above: 0, max: 100_000 },
} as const;

/** Fields that may say "auto": planned from timed steps to fit the time budget (models/classifier/plan.ts). */
const PLANNED = ['inputSize', 'width', 'epochs', 'batch', 'patience'] as const;
const AUTO = 'auto';

export function ClassifierPanel() {
  const slide = useAppStore(selectActiveSlide);
  const slides = useAppStore((s) => s.slides);
  const analyses = useAppStore((s) => s.analysis);
  useAppStore((s) => s.selections); // re-render when classes are ticked
  useAppStore((s) => s.classifierShapes); // … or shapes drawn
  const busy = useAppStore((s) => s.jobs.some((j) => j.status === 'running' && (j.label.startsWith('Classifier') || j.label === 'Classify tiles')));
  const [source, setSource] = useState<Source>('tiles');
  const [images, setImages] = useState<(TrainingSet & { skipped: number; name: string }) | null>(null);
  const [arch, setArch] = useState<'mobincep' | 'organet'>('mobincep');
  const [texts, setTexts] = useState({ inputSize: AUTO, width: AUTO, epochs: AUTO, batch: AUTO, patience: AUTO, patch: String(SHAPE_PATCH_UM) });
  const [plan, setPlan] = useState<ClassifierPlanInfo | null>(null);
  const [augment, setAugment] = useState(true);
  const [normalisation, setNormalisation] = useState<Normalisation>(DEFAULT_NORMALISATION);
  const [info, setInfo] = useState<ClassifierInfo | null>(null);
  const [target, setTarget] = useState<string | null>(null);
  const [result, setResult] = useState<SlideClassification | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!slide) return null;
  // "auto" (or empty) leaves a value to the plan.
  const isAuto = (k: (typeof PLANNED)[number]) => ['', AUTO].includes(texts[k].trim().toLowerCase());
  const parsed = parseAll(texts, RULES);
  for (const k of PLANNED) if (isAuto(k)) delete parsed.errors[k];
  const given = (k: (typeof PLANNED)[number]) => (isAuto(k) ? undefined : parsed.values[k]);
  const mpp = effectiveMpp(slide);
  // Drawn shapes are cut into patches of this side (µm when the slide has a scale, else px).
  const patch0 = parsed.values.patch === undefined ? null : mpp ? parsed.values.patch / mpp : parsed.values.patch;
  const set =
    source === 'images'
      ? images
      : source === 'shapes'
        ? patch0 === null
          ? null
          : shapesTrainingSet(slide.id, patch0)
        : trainingSetOf(source === 'tiles' ? slide.id : nucleiAnalysisKey(slide.id));
  const chooseImages = async (list: FileList | null) => {
    if (!list || list.length === 0) return;
    setError(null);
    // A chosen folder gives paths relative to it (webkitRelativePath); a zip is listed by the service.
    const files = Array.from(list, (f) => ({ path: f.webkitRelativePath || f.name, blob: f as Blob }));
    const name = list.length === 1 ? list[0].name : (files[0].path.split('/')[0] ?? `${list.length} files`);
    try {
      const chosen = await imagesTrainingSet(files);
      if (chosen.classes.length === 0) throw new Error(`${name}: no images in class sub-folders (expected <class>/<image> with .png, .jpg, .tif or .webp images)`);
      setImages({ ...chosen, name });
    } catch (e) {
      setImages(null);
      setError(errorMessage(e));
    }
  };
  const targets = slides.filter((s) => analyses[s.id]?.tiles);
  const targetId = target && targets.some((s) => s.id === target) ? target : (targets.find((s) => s.id === slide.id)?.id ?? targets[0]?.id ?? null);
  const invalid = Object.keys(parsed.errors).length > 0;
  const train = async () => {
    if (!set || invalid) return;
    setError(null);
    try {
      setPlan(null);
      const trained = await trainClassifier(
        slide.id,
        {
          arch,
          examples: set.examples,
          inputSize: given('inputSize'),
          normalisation,
          width: given('width'),
          epochs: given('epochs'),
          batchSize: given('batch'),
          patience: given('patience'),
          augment,
          seed: 1,
        },
        setPlan,
      );
      if (trained) setInfo(trained);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const classify = async () => {
    if (!info || !targetId) return;
    setError(null);
    try {
      const classes = info.classes.map((name, k) => ({ name, color: set?.classes.find((c) => c.name === name)?.color ?? selectionColour(k) }));
      const done = await classifySlide(slide.id, targetId, classes);
      if (done) setResult(done);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <section className="cish-panel" data-testid="classifier-panel" aria-label="Classifier">
      <h2>Classifier (Mobincep / OrgaNet)</h2>
      <div className="cish-row">
        <label className="cish-field">
          <span>Examples</span>
          <select value={source} onChange={(e) => setSource(e.currentTarget.value as Source)} data-testid="classifier-source">
            <option value="tiles">labelled classes of the tiles</option>
            <option value="nuclei">labelled classes of the nuclei</option>
            <option value="shapes">shapes drawn on the slide</option>
            <option value="images">a folder or zip of images (one sub-folder per class)</option>
          </select>
        </label>
        {source === 'images' && (
          <>
            <label className="button">
              Folder…
              {/* webkitdirectory: every file under the chosen folder, with its relative path. */}
              <input type="file" className="visually-hidden" multiple data-testid="classifier-images-folder" {...{ webkitdirectory: '' }} onChange={(e) => void chooseImages(e.currentTarget.files)} />
            </label>
            <label className="button">
              Zip…
              <input type="file" className="visually-hidden" accept=".zip,application/zip" data-testid="classifier-images-zip" onChange={(e) => void chooseImages(e.currentTarget.files)} />
            </label>
          </>
        )}
        {source === 'shapes' && (
          <label className="cish-field">
            <span>Patch {mpp ? 'µm' : 'px'}</span>
            <input type="text" size={4} value={texts.patch} data-testid="classifier-patch" aria-invalid={parsed.errors.patch ? 'true' : 'false'} onChange={(e) => setTexts({ ...texts, patch: e.currentTarget.value })} />
            {parsed.errors.patch && <em className="cish-error">{parsed.errors.patch}</em>}
          </label>
        )}
      </div>
      {source === 'shapes' && <ShapeExamples slideId={slide.id} disabled={busy} />}
      {source === 'images' && images && (
        <p className="muted" data-testid="classifier-images">
          {images.name}: {images.counts.reduce((a, b) => a + b, 0)} images in {images.classes.length} classes
          {images.skipped > 0 ? `, ${images.skipped} other files skipped` : ''}
        </p>
      )}
      {set ? (
        <ul className="classifier-balance" data-testid="classifier-balance">
          {set.classes.map((c, k) => (
            <li key={c.name}>
              <span className="cish-swatch" style={{ background: `rgb(${c.color.join(',')})` }} /> {c.name}: {set.counts[k]}
              {set.counts[k] < MIN_EXAMPLES_PER_CLASS && <em className="cish-error"> too few (under {MIN_EXAMPLES_PER_CLASS})</em>}
            </li>
          ))}
          {set.conflicts > 0 && <li className="muted">{set.conflicts} items claimed by two classes are left out</li>}
          {set.classes.length < 2 && <li className="cish-error">a classifier needs at least 2 classes</li>}
        </ul>
      ) : (
        <p className="muted">
          {source === 'shapes'
            ? 'Draw rectangles, polygons or points on the slide for at least 2 classes (each shape gives the patches inside it).'
            : source === 'images'
              ? 'Choose a folder, or a zip, holding one sub-folder of images per class.'
              : 'Tick selections as labelled classes in the latent explorer (at least 2) to train on them.'}
        </p>
      )}
      <div className="cish-row">
        <select
          value={arch}
          aria-label="Network"
          data-testid="classifier-arch"
          onChange={(e) => {
            const next = e.currentTarget.value as 'mobincep' | 'organet';
            setArch(next);
            setTexts({ ...texts, inputSize: AUTO });
          }}
        >
          <option value="mobincep">Mobincep (RGB, 224 px, 4.3 M weights at width 1)</option>
          <option value="organet">OrgaNet (grey, 382 px, 2.24 M weights at width 1)</option>
        </select>
        <label>
          <input type="checkbox" checked={augment} onChange={(e) => setAugment(e.currentTarget.checked)} /> augment
        </label>
        <select
          value={normalisation}
          aria-label="Normalisation"
          data-testid="classifier-normalisation"
          title="Each image is standardised to zero mean and unit variance: over all its channels (keeps colour and channel ratios) or per channel"
          onChange={(e) => setNormalisation(e.currentTarget.value as Normalisation)}
        >
          <option value="image">standardise per image</option>
          <option value="channel">standardise per channel</option>
          <option value="none">raw intensities (0–1)</option>
        </select>
      </div>
      <div className="cish-row">
        {PLANNED.map((k) => (
          <label key={k} className="cish-field">
            <span>{{ inputSize: 'Input px', width: 'Width', epochs: 'Epochs', batch: 'Batch', patience: 'Patience' }[k]}</span>
            <input type="text" size={4} value={texts[k]} data-testid={`classifier-${k}`} title='a number, or "auto": planned from timed steps to finish in 10 minutes' aria-invalid={parsed.errors[k] ? 'true' : 'false'} onChange={(e) => setTexts({ ...texts, [k]: e.currentTarget.value })} />
            {parsed.errors[k] && <em className="cish-error">{parsed.errors[k]}</em>}
          </label>
        ))}
        <button type="button" data-testid="classifier-train" disabled={busy || !set || set.classes.length < 2 || invalid} onClick={() => void train()}>
          Train
        </button>
      </div>
      {plan && (
        <div className="cish-result" data-testid="classifier-plan">
          <p>Plan: {plan.summary}</p>
          {plan.warnings.map((w) => (
            <p key={w} className="cish-warning">
              {w}
            </p>
          ))}
        </div>
      )}
      <SavedModels
        kind={['mobincep', 'organet']}
        title="Saved classifiers"
        fingerprint={analyses[slide.id]?.fingerprint}
        onUse={async (url) => setInfo(await useClassifier(slide.id, url))}
        guard={reportingTo(setError)}
        disabled={busy}
        refreshKey={info?.modelId}
        testId="classifier-models"
      />
      {info && <ClassifierMetricsView info={info} />}
      {info && (
        <div className="cish-row">
          <select value={targetId ?? ''} aria-label="Slide to classify" data-testid="classifier-target" onChange={(e) => setTarget(e.currentTarget.value)}>
            {targets.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
          <button type="button" data-testid="classifier-classify" disabled={busy || !targetId} onClick={() => void classify()}>
            Classify its tissue tiles
          </button>
        </div>
      )}
      {result && targetId && <ClassificationView slideId={targetId} result={result} />}
      {error && (
        <p role="alert" className="cish-error">
          {error}
        </p>
      )}
    </section>
  );
}

function ClassifierMetricsView({ info }: { info: ClassifierInfo }) {
  const m = info.metrics;
  if (!m) {
    return (
      <p className="cish-result" data-testid="classifier-metrics">
        {`${info.arch === 'mobincep' ? 'Mobincep' : 'OrgaNet'} ${info.modelId} (classes ${info.classes.join(', ')}; ${info.inputSize} px input) loaded from storage: its test scores were shown when it was trained.`}
      </p>
    );
  }
  const K = info.classes.length;
  return (
    <div className="classifier-metrics" data-testid="classifier-metrics" data-accuracy={m.accuracy} data-macro-auc={m.macroAuc}>
      <SelfChecks checks={m.checks} testId="classifier-checks" />
      <p className="cish-result">
        {`${info.arch === 'mobincep' ? 'Mobincep' : 'OrgaNet'}, ${(info.parameters / 1e6).toFixed(2)} M weights, ${info.epochsRun} epochs${info.stoppedEarly ? ' (stopped early)' : ''}; ` +
          `trained on ${info.split.train}, validated on ${info.split.validation}, tested on ${info.split.test}: accuracy ${m.accuracy.toFixed(3)}, ` +
          `AUC micro ${m.microRoc.auc.toFixed(3)}, macro ${m.macroAuc.toFixed(3)}`}
      </p>
      <table className="classifier-table">
        <thead>
          <tr>
            <th>class</th>
            <th>precision</th>
            <th>sensitivity</th>
            <th>F1</th>
            <th>n</th>
            {info.classes.map((c) => (
              <th key={c} title={`predicted ${c}`}>→ {c}</th>
            ))}
          </tr>
        </thead>
        <tbody data-testid="classifier-confusion">
          {info.classes.map((c, k) => (
            <tr key={c}>
              <th>{c}</th>
              <td>{m.precision[k].toFixed(2)}</td>
              <td>{m.recall[k].toFixed(2)}</td>
              <td>{m.f1[k].toFixed(2)}</td>
              <td>{m.support[k]}</td>
              {info.classes.map((_, j) => (
                <td key={j} className={j === k ? 'classifier-diagonal' : undefined}>
                  {m.confusion[k * K + j]}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <RocChart curves={[...m.perClassRoc.map((c, k) => ({ ...c, label: info.classes[k] })), { ...m.microRoc, label: 'micro' }]} />
      <LineChart ys={info.loss} label="Training loss per epoch" xLabel="epochs" testId="classifier-loss" />
    </div>
  );
}

const ROC_COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324'];

/** One-vs-rest ROC curves (false positive rate → true positive rate) with their AUCs. */
function RocChart({ curves }: { curves: Array<{ fpr: Float64Array; tpr: Float64Array; auc: number; label: string }> }) {
  const size = 150;
  const path = (c: { fpr: Float64Array; tpr: Float64Array }) => Array.from(c.fpr, (x, i) => `${i ? 'L' : 'M'}${(x * size).toFixed(1)},${((1 - c.tpr[i]) * size).toFixed(1)}`).join('');
  return (
    <figure className="classifier-roc" data-testid="classifier-roc">
      <svg width={size} height={size} viewBox={`0 0 ${size} ${size}`} role="img" aria-label="ROC curves">
        <rect width={size} height={size} fill="none" stroke="#8886" />
        <path d={`M0,${size}L${size},0`} stroke="#8886" strokeDasharray="3 3" />
        {curves.map((c, i) => (
          <path key={c.label} d={path(c)} fill="none" stroke={c.label === 'micro' ? '#888' : ROC_COLOURS[i % ROC_COLOURS.length]} strokeWidth={1.5} />
        ))}
      </svg>
      <figcaption>
        {curves.map((c, i) => (
          <span key={c.label} style={{ color: c.label === 'micro' ? '#888' : ROC_COLOURS[i % ROC_COLOURS.length] }}>
            {c.label} AUC {Number.isFinite(c.auc) ? c.auc.toFixed(3) : 'n/a'}{' '}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

function ClassificationView({ slideId, result }: { slideId: string; result: SlideClassification }) {
  const mapLayer = useAppStore((s) => s.overlays.find((l) => l.id === classifierMapLayerId(slideId)));
  const confidenceLayer = useAppStore((s) => s.overlays.find((l) => l.id === confidenceLayerId(slideId)));
  const key = classifierAnalysisKey(slideId);
  const analysis = useAppStore((s) => s.analysis[key]);
  const slideName = useAppStore((s) => s.slides.find((x) => x.id === slideId)?.name ?? '');
  const colours = useMemo(() => (analysis ? itemColours(analysis) : null), [analysis]);
  // Issue 15: a map with one class everywhere (or a class that never comes up) says so.
  const checks = useMemo(() => classMapSelfChecks(result.outcome.predicted, result.classes.map((c) => c.name)), [result]);
  return (
    <div data-testid="classifier-result">
      <SelfChecks checks={checks} testId="classifier-map-checks" />
      <ul className="classifier-balance" data-testid="classifier-areas" title={`Class map${checkMark(checks)}`}>
        {result.classes.map((c, k) => (
          <li key={c.name} data-count={result.counts[k]}>
            <span className="cish-swatch" style={{ background: `rgb(${c.color.join(',')})` }} /> {c.name}: {result.counts[k]} tiles
            {result.areasMm2[k] !== null ? `, ${result.areasMm2[k]!.toFixed(3)} mm²` : ''}
          </li>
        ))}
      </ul>
      <div className="cish-row">
        <label>
          <input type="checkbox" checked={mapLayer?.visible ?? false} data-testid="classifier-show-map" onChange={(e) => appStore.getState().updateOverlay(classifierMapLayerId(slideId), { visible: e.currentTarget.checked })} /> class map
        </label>
        <label>
          <input type="checkbox" checked={confidenceLayer?.visible ?? false} onChange={(e) => appStore.getState().updateOverlay(confidenceLayerId(slideId), { visible: e.currentTarget.checked })} /> confidence
        </label>
      </div>
      {analysis?.latents && colours && <LatentExplorer analysisKey={key} slideName={slideName} analysis={analysis} colours={colours} onPick={(row) => panToItem(analysis, row)} />}
    </div>
  );
}
