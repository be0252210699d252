import { formatEta, useAppStore, type Job } from '../../store';

function JobRow({ job }: { job: Job }) {
  const cancelJob = useAppStore((state) => state.cancelJob);
  const dismissJob = useAppStore((state) => state.dismissJob);
  const percent = Math.round(job.progress * 100);
  return (
    <li className={`job job-${job.status}`} data-testid="job">
      <div className="job-head">
        <span className="job-label">{job.label}</span>
        {job.status === 'running' ? (
          <button type="button" className="icon-button" data-testid="job-cancel" onClick={() => cancelJob(job.id)} aria-label={`Cancel ${job.label}`}>
            Cancel
          </button>
        ) : (
          <button type="button" className="icon-button" onClick={() => dismissJob(job.id)} aria-label={`Dismiss ${job.label}`}>
            ×
          </button>
        )}
      </div>
      <progress max={1} value={job.progress} aria-label={`${job.label} progress`} />
      <div className="job-meta">
        {job.status === 'running' ? (
          <>
            <span>{percent}%</span>
            <span data-testid="job-eta">ETA {formatEta(job.etaSeconds)}</span>
          </>
        ) : (
          <span>{job.status === 'failed' ? `failed: ${job.error ?? ''}` : job.status}</span>
        )}
        {job.detail && <span className="muted">{job.detail}</span>}
      </div>
    </li>
  );
}

/** Running and recent jobs, with progress, ETA and cancel. */
export function JobsPanel() {
  const jobs = useAppStore((state) => state.jobs);
  return (
    <section className="panel jobs" data-testid="jobs" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      {jobs.length === 0 ? (
        <p className="muted">No jobs running.</p>
      ) : (
        <ul className="job-list">
          {jobs
            .slice()
            .reverse()
            .map((job) => (
              <JobRow key={job.id} job={job} />
            ))}
        </ul>
      )}
    </section>
  );
}
