/**
 * The report's only script, inlined in the page (it must work offline, from a file:// URL, with no CDN):
 * - a time chart (`svg[data-chart]`) shows a crosshair, a dot on each line and a tooltip with every
 *   visible series' value at the pointer, highest first;
 * - a legend entry (`[data-toggle]`) hides or shows its series on click (or Enter/Space), and highlights it
 *   while hovered;
 * - any element with `data-tip` (the bars) shows that text on hover.
 * Kept as plain ES2020 in a string: the project's TypeScript has no DOM types, and the browser test in
 * test/unit/report/backtest-report.browser.test.ts runs it in Chromium.
 */
export const CHART_INTERACTIONS_SCRIPT = String.raw`
(() => {
  const NS = 'http://www.w3.org/2000/svg';
  const MONTHS = ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'];
  const tip = document.createElement('div');
  tip.className = 'tip';
  tip.setAttribute('role', 'tooltip');
  tip.hidden = true;
  document.body.appendChild(tip);

  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const two = (n) => String(n).padStart(2, '0');
  const when = (ms) => {
    const d = new Date(ms);
    return MONTHS[d.getUTCMonth()] + ' ' + two(d.getUTCDate()) + ' ' + two(d.getUTCHours()) + ':' + two(d.getUTCMinutes());
  };
  const span = (startMs, stepMs) => {
    const end = new Date(startMs + stepMs);
    return when(startMs) + '–' + two(end.getUTCHours()) + ':' + two(end.getUTCMinutes()) + ' UTC';
  };
  const number = (v) => {
    const abs = Math.abs(v);
    if (Number.isInteger(v)) return v.toLocaleString('en-US');
    if (abs >= 1000) return Math.round(v).toLocaleString('en-US');
    if (abs >= 100) return v.toFixed(0);
    if (abs >= 10) return v.toFixed(1);
    return v.toFixed(2);
  };
  const place = (evt) => {
    const gap = 14;
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    let x = evt.clientX + gap;
    let y = evt.clientY + gap;
    if (x + w > window.innerWidth - 4) x = evt.clientX - gap - w;
    if (y + h > window.innerHeight - 4) y = evt.clientY - gap - h;
    tip.style.left = Math.max(4, x) + window.scrollX + 'px';
    tip.style.top = Math.max(4, y) + window.scrollY + 'px';
  };
  const show = (html, evt) => {
    tip.innerHTML = html;
    tip.hidden = false;
    place(evt);
  };
  const hide = () => {
    tip.hidden = true;
  };
  const svgPoint = (svg, evt) => {
    const p = svg.createSVGPoint();
    p.x = evt.clientX;
    p.y = evt.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  };
  const seriesHidden = (svg, k) => {
    const g = svg.querySelector('.series[data-series="' + k + '"]');
    return !g || g.classList.contains('hidden');
  };

  for (const svg of document.querySelectorAll('svg[data-chart]')) {
    const spec = JSON.parse(svg.getAttribute('data-chart'));
    const [left, top, right, bottom] = spec.plot;
    const [yMin, yMax] = spec.y;
    const [startMs, stepMs] = spec.t;
    const n = Math.max(1, ...spec.series.map((s) => s.values.length));
    const xOf = (i) => left + ((i + 0.5) / n) * (right - left);
    const yOf = (v) => bottom - ((Math.min(v, yMax) - yMin) / (yMax - yMin || 1)) * (bottom - top);
    const cross = document.createElementNS(NS, 'line');
    cross.setAttribute('class', 'crosshair');
    cross.setAttribute('y1', top);
    cross.setAttribute('y2', bottom);
    cross.style.display = 'none';
    const dots = spec.series.map((s) => {
      const dot = document.createElementNS(NS, 'circle');
      dot.setAttribute('r', '4.5');
      dot.setAttribute('fill', s.color);
      dot.setAttribute('class', 'hover-dot');
      dot.style.display = 'none';
      return dot;
    });
    const area = document.createElementNS(NS, 'rect');
    area.setAttribute('x', left);
    area.setAttribute('y', top);
    area.setAttribute('width', right - left);
    area.setAttribute('height', bottom - top);
    area.setAttribute('class', 'hover-area');
    svg.append(cross, ...dots, area);

    area.addEventListener('pointermove', (evt) => {
      const p = svgPoint(svg, evt);
      const i = Math.min(n - 1, Math.max(0, Math.floor(((p.x - left) / (right - left)) * n)));
      cross.setAttribute('x1', xOf(i));
      cross.setAttribute('x2', xOf(i));
      cross.style.display = '';
      const rows = [];
      spec.series.forEach((s, k) => {
        const v = s.values[i];
        const visible = v !== null && v !== undefined && !seriesHidden(svg, k);
        dots[k].style.display = visible ? '' : 'none';
        if (!visible) return;
        dots[k].setAttribute('cx', xOf(i));
        dots[k].setAttribute('cy', yOf(v));
        rows.push({ s, v });
      });
      rows.sort((a, b) => b.v - a.v);
      const body = rows.length
        ? rows.map((r) =>
            '<tr><td><span class="tip-swatch" style="background:' + r.s.color + '"></span>' + esc(r.s.name) +
            '</td><td class="tip-value">' + number(r.v) + ' ' + esc(spec.unit) + '</td></tr>').join('')
        : '<tr><td>no data in this slot</td></tr>';
      show('<div class="tip-time">' + span(startMs + i * stepMs, stepMs) + '</div><table>' + body + '</table>', evt);
    });
    area.addEventListener('pointerleave', () => {
      cross.style.display = 'none';
      for (const dot of dots) dot.style.display = 'none';
      hide();
    });
  }

  for (const item of document.querySelectorAll('[data-toggle]')) {
    const svg = item.closest('svg');
    const k = item.getAttribute('data-toggle');
    const group = svg.querySelector('.series[data-series="' + k + '"]');
    const toggle = () => {
      const off = item.classList.toggle('off');
      if (group) group.classList.toggle('hidden', off);
      item.setAttribute('aria-pressed', String(!off));
    };
    item.addEventListener('click', toggle);
    item.addEventListener('keydown', (evt) => {
      if (evt.key === 'Enter' || evt.key === ' ') {
        evt.preventDefault();
        toggle();
      }
    });
    item.addEventListener('pointerenter', () => {
      if (!group) return;
      svg.classList.add('focusing');
      group.classList.add('focused');
    });
    item.addEventListener('pointerleave', () => {
      svg.classList.remove('focusing');
      if (group) group.classList.remove('focused');
    });
  }

  for (const el of document.querySelectorAll('[data-tip]')) {
    el.addEventListener('pointermove', (evt) => {
      show(esc(el.getAttribute('data-tip')).replace(/\n/g, '<br>'), evt);
    });
    el.addEventListener('pointerleave', hide);
  }
})();
`;
