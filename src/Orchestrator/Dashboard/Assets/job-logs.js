// The job page's Logs section: reads the job's lines from the JSON endpoint named by data-src, a page at a time after the
// last line shown, and polls every 2 s until the job has ended and a read brings nothing new. Where a rank's lines jump
// (the size cap keeps the head and the tail), a line says how many were omitted. The attempt and rank selectors narrow the
// lines (the page's address keeps the choice, ?attempt=N&rank=N); changing them reads again from the first line and
// follows the new selection.
(() => {
    document.addEventListener('DOMContentLoaded', () => {
        const section = document.getElementById('job-logs');
        if (!section) return;
        const out = document.getElementById('log-lines');
        const empty = document.getElementById('no-logs');
        const attempt = document.getElementById('log-attempt');
        const rank = document.getElementById('log-rank');
        const noLines = empty.textContent;
        const last = new Map();
        let after = 0;
        // Each selection is one generation: a read still on its way for an earlier one is dropped.
        let generation = 0;
        let timer = null;
        const time = iso => new Date(iso).toISOString().substring(11, 23);
        const append = (text, level) => {
            const span = document.createElement('span');
            span.className = 'log-' + level;
            span.textContent = text + '\n';
            out.appendChild(span);
        };
        const offerAttempts = latest => {
            for (let next = attempt.options.length; next <= latest; next++) attempt.add(new Option(String(next), String(next)));
        };
        const query = () => {
            const parameters = new URLSearchParams();
            if (attempt.value) parameters.set('attempt', attempt.value);
            if (rank.value) parameters.set('rank', rank.value);
            return parameters;
        };
        const read = async mine => {
            const parameters = query();
            parameters.set('after', after);
            const response = await fetch(section.dataset.src + '?' + parameters, { headers: { 'x-dashboard-fetch': '1' } });
            if (mine !== generation) return { more: false, ended: true };
            if (response.status === 401) { location.reload(); return { more: false, ended: true }; }
            if (response.status === 404) { empty.textContent = await response.json(); return { more: false, ended: false }; }
            if (!response.ok) return { more: false, ended: false };
            const page = await response.json();
            if (mine !== generation) return { more: false, ended: true };
            offerAttempts(page.attempt);
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
            const mine = generation;
            let result;
            try {
                do { result = await read(mine); } while (result.more && mine === generation);
            } catch { result = { ended: false }; /* the orchestrator restarts: try again on the next tick */ }
            if (mine === generation && !result.ended) timer = setTimeout(tick, 2000);
        };
        const select = () => {
            generation++;
            clearTimeout(timer);
            after = 0;
            last.clear();
            out.replaceChildren();
            out.hidden = true;
            empty.textContent = noLines;
            empty.hidden = false;
            const chosen = query().toString();
            history.replaceState(null, '', location.pathname + (chosen ? '?' + chosen : '') + location.hash);
            tick();
        };
        const chosen = new URLSearchParams(location.search);
        offerAttempts(Number(chosen.get('attempt')) || 0);
        attempt.value = chosen.get('attempt') || '';
        rank.value = chosen.get('rank') || '';
        attempt.addEventListener('change', select);
        rank.addEventListener('change', select);
        tick();
    });
})();
