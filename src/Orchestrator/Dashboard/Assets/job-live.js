// The job page follows a job that is queued or running: every two seconds it re-reads the page's JSON (?handler=live)
// and updates the state, the progress bar and text, it/s, ETA and the metric charts (SVG drawn by the server). When the
// job reaches an end state the page reloads once, so the failure, files, evaluation and attempts it left are shown.
(() => {
    const live = ['QUEUED', 'SCHEDULED', 'RUNNING'];

    const show = job => {
        const state = document.getElementById('job-state');
        state.textContent = job.state.toLowerCase();
        state.className = 'state state-' + job.state;
        state.dataset.state = job.state;
        const progress = document.getElementById('job-progress');
        progress.dataset.step = job.step;
        progress.dataset.total = job.totalSteps;
        progress.querySelector('.bar > span').style.width = job.progress;
        document.getElementById('job-progress-text').textContent = `${job.step} / ${job.totalSteps} ${job.phase}`;
        document.getElementById('job-rate').textContent = job.rate;
        document.getElementById('job-eta').textContent = job.eta;
        if (job.charts) {
            document.getElementById('metric-charts').innerHTML = job.charts;
            document.getElementById('no-metrics').hidden = true;
        }
    };

    document.addEventListener('DOMContentLoaded', () => {
        const state = document.getElementById('job-state');
        if (!state || !live.includes(state.dataset.state)) return;
        const timer = setInterval(async () => {
            try {
                const response = await fetch(location.pathname + '?handler=live', { headers: { 'x-dashboard-fetch': '1' } });
                if (response.status === 401) { location.reload(); return; }
                if (!response.ok) return;
                const job = await response.json();
                if (!live.includes(job.state)) { clearInterval(timer); location.reload(); return; }
                show(job);
            } catch { /* the orchestrator restarts: try again on the next tick */ }
        }, 2000);
    });
})();
