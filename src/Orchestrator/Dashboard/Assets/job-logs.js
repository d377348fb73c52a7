// The job page's Logs section: reads the job's lines from the JSON endpoint named by data-src, a page at a time after the
// last line shown, and polls every 2 s until the job has ended and a read brings nothing new. Where a rank's lines jump
// (the size cap keeps the head and the tail), a line says how many were omitted.
(() => {
    document.addEventListener('DOMContentLoaded', () => {
        const section = document.getElementById('job-logs');
        if (!section) return;
        const out = document.getElementById('log-lines');
        const empty = document.getElementById('no-logs');
        const last = new Map();
        let after = 0;
        const time = iso => new Date(iso).toISOString().substring(11, 23);
        const append = (text, level) => {
            const span = document.createElement('span');
            span.className = 'log-' + level;
            span.textContent = text + '\n';
            out.appendChild(span);
        };
        const read = async () => {
            const response = await fetch(section.dataset.src + '?after=' + after, { headers: { 'x-dashboard-fetch': '1' } });
            if (response.status === 401) { location.reload(); return { more: false, ended: true }; }
            if (!response.ok) return { more: false, ended: false };
            const page = await response.json();
            for (const line of page.lines) {
                const key = line.attempt + '/' + line.rank;
                const omitted = line.sequence - (last.get(key) || 0) - 1;
                const prefix = '[attempt ' + line.attempt + ' rank ' + line.rank + '] ';
                if (omitted > 0) append(prefix + '… ' + omitted + ' lines omitted (the size cap keeps the head and the tail) …', 'omitted');
                append(prefix + time(line.time) + ' ' + line.level + ' ' + line.text, line.level);
                last.set(key, line.sequence);
                after = line.id;
            }
            if (page.lines.length > 0) { out.hidden = false; empty.hidden = true; out.scrollTop = out.scrollHeight; }
            return { more: page.lines.length > 0, ended: page.ended };
        };
        const tick = async () => {
            let result;
            try {
                do { result = await read(); } while (result.more);
            } catch { result = { ended: false }; /* the orchestrator restarts: try again on the next tick */ }
            if (!result.ended) setTimeout(tick, 2000);
        };
        tick();
    });
})();
