// The dashboard's only script (the content-security policy allows no inline script or style): progress bars take their
// width from data-width, the sample grid is upscaled by a whole factor to about 512 px, and the job table refreshes itself.
(() => {
    const sizeBars = root => root.querySelectorAll('.bar > span[data-width]').forEach(bar => { bar.style.width = bar.dataset.width; });

    const upscale = image => { image.width = image.naturalWidth * Math.max(1, Math.floor(512 / image.naturalWidth)); };

    document.addEventListener('DOMContentLoaded', () => {
        sizeBars(document);
        const grid = document.getElementById('sample-grid');
        if (grid) {
            if (grid.complete && grid.naturalWidth > 0) upscale(grid);
            else grid.addEventListener('load', () => upscale(grid));
        }
        const rows = document.getElementById('job-rows');
        if (!rows) return;
        const query = new URLSearchParams(location.search);
        query.set('handler', 'rows');
        setInterval(async () => {
            try {
                const response = await fetch(location.pathname + '?' + query, { headers: { 'x-dashboard-fetch': '1' } });
                if (response.status === 401) { location.reload(); return; }
                if (response.ok) { rows.innerHTML = await response.text(); sizeBars(rows); }
            } catch { /* the orchestrator restarts: try again on the next tick */ }
        }, 2000);
    });
})();
