"use strict";(self.rspackChunkcnnlive=self.rspackChunkcnnlive||[]).push([[232],{475(e,n,r){var o=r(601),i=r.n(o),a=r(314),t=(r.n(a))()(i());t.push([e.id,`.jp-cnnlive-panel {
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
  overflow-y: auto;
  padding: 8px;
  min-width: 260px;
}
.jp-cnnlive-heading { font-size: var(--jp-ui-font-size2); margin: 0 0 4px; }
.jp-cnnlive-status, .jp-cnnlive-resources, .jp-cnnlive-meta, .jp-cnnlive-notice, .jp-cnnlive-empty {
  color: var(--jp-ui-font-color2);
  margin: 2px 0;
}
.jp-cnnlive-status[data-status='connected'] { color: var(--jp-success-color1); }
.jp-cnnlive-status[data-status='not-loaded'] { color: var(--jp-warn-color1); }
.jp-cnnlive-banner {
  background: var(--jp-error-color3);
  border-left: 4px solid var(--jp-error-color1);
  padding: 6px;
  margin: 6px 0;
}
.jp-cnnlive-card {
  border: var(--jp-border-width) solid var(--jp-border-color2);
  border-radius: 4px;
  background: var(--jp-layout-color0);
  padding: 6px 8px;
  margin: 8px 0;
}
.jp-cnnlive-card-head { display: flex; justify-content: space-between; gap: 8px; font-weight: 600; }
.jp-cnnlive-state { font-weight: 600; text-transform: lowercase; }
.jp-cnnlive-state-running, .jp-cnnlive-state-completed { color: var(--jp-success-color1); }
.jp-cnnlive-state-stopping, .jp-cnnlive-state-stopped { color: var(--jp-warn-color1); }
.jp-cnnlive-state-cancelled, .jp-cnnlive-state-failed { color: var(--jp-error-color1); }
.jp-cnnlive-progress { height: 6px; background: var(--jp-layout-color3); border-radius: 3px; margin: 4px 0; overflow: hidden; }
.jp-cnnlive-progress-fill { height: 100%; background: var(--jp-brand-color1); transition: width 0.2s; }
.jp-cnnlive-metrics { display: flex; flex-wrap: wrap; gap: 2px 10px; margin: 2px 0; }
.jp-cnnlive-metric { display: inline-flex; gap: 4px; align-items: baseline; }
.jp-cnnlive-metric-label { color: var(--jp-ui-font-color2); }
.jp-cnnlive-metric-value { font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); }
.jp-cnnlive-note { color: var(--jp-ui-font-color2); font-style: italic; margin: 2px 0; }
.jp-cnnlive-restart {
  background: var(--jp-warn-color3);
  border-left: 4px solid var(--jp-warn-color1);
  padding: 4px 6px;
  margin: 6px 0;
}
.jp-cnnlive-graphs { display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 6px; margin: 4px 0; }
.jp-cnnlive-graph { border: var(--jp-border-width) solid var(--jp-border-color2); border-radius: 3px; padding: 2px 4px; }
.jp-cnnlive-graph-text { display: flex; justify-content: space-between; gap: 4px; font-size: var(--jp-ui-font-size0); }
.jp-cnnlive-graph-label { color: var(--jp-ui-font-color2); }
.jp-cnnlive-graph-value { font-family: var(--jp-code-font-family); white-space: nowrap; }
.jp-cnnlive-graph-svg { display: block; width: 100%; height: 20px; }
.jp-cnnlive-graph-line { fill: none; stroke: var(--jp-brand-color1); stroke-width: 1.2; vector-effect: non-scaling-stroke; }
.jp-cnnlive-graph[data-resource='ram'] .jp-cnnlive-graph-line { stroke: var(--jp-warn-color1); }
.jp-cnnlive-graph[data-resource='gpu'] .jp-cnnlive-graph-line { stroke: var(--jp-success-color1); }
.jp-cnnlive-card.jp-mod-finished { background: var(--jp-layout-color1); }
.jp-cnnlive-spark { width: 100%; height: 28px; }
.jp-cnnlive-spark-line { fill: none; stroke: var(--jp-brand-color1); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.jp-cnnlive-figure { margin: 4px 0; }
.jp-cnnlive-image { max-width: 100%; image-rendering: pixelated; border: var(--jp-border-width) solid var(--jp-border-color2); }
.jp-cnnlive-caption { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0); }
.jp-cnnlive-log {
  max-height: 7em; overflow: auto; margin: 4px 0; padding: 4px; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--jp-layout-color2); font-size: var(--jp-code-font-size);
}
.jp-cnnlive-buttons { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 4px; }
.jp-cnnlive-buttons button:focus-visible { outline: 2px solid var(--jp-brand-color1); }
.jp-cnnlive-buttons button:disabled { opacity: 0.4; cursor: not-allowed; filter: grayscale(1); }
.jp-cnnlive-adjust { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin-top: 4px; font-size: var(--jp-ui-font-size0); }
.jp-cnnlive-adjust input { width: auto; flex: 1 1 5em; min-width: 4em; }
.jp-cnnlive-adjust-label { flex-basis: 100%; }
.jp-cnnlive-adjust-msg { color: var(--jp-error-color1); }
.jp-cnnlive-state-paused { color: var(--jp-warn-color1); }

/* OIP cards: the step slider over the kept snapshots */
.jp-cnnlive-timeline { display: flex; flex-direction: column; gap: 2px; margin: 2px 0 4px; font-size: var(--jp-ui-font-size0); }
.jp-cnnlive-slider { width: 100%; margin: 0; accent-color: var(--jp-brand-color1); border: none; background: transparent; }
.jp-cnnlive-card[data-snapshots] .jp-cnnlive-image { width: 100%; max-width: 240px; }
.jp-cnnlive-frame-label { color: var(--jp-ui-font-color2); }

/* Saved runs and the compare figure */
.jp-cnnlive-runs { margin: 10px 8px 8px; padding-top: 6px; border-top: var(--jp-border-width) solid var(--jp-border-color2); }
.jp-cnnlive-runs-head { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; }
.jp-cnnlive-runs-title { flex: 1 0 auto; margin: 0; font-size: var(--jp-ui-font-size1); }
.jp-cnnlive-runs-buttons { display: flex; flex-wrap: wrap; gap: 4px 6px; max-width: 100%; }
.jp-cnnlive-runs-folder { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; margin: 2px 0; }
.jp-cnnlive-runs-error { color: var(--jp-error-color1); font-size: var(--jp-ui-font-size0); margin: 2px 0; overflow-wrap: anywhere; }
.jp-cnnlive-runs-table { display: flex; flex-direction: column; gap: 3px; font-size: var(--jp-ui-font-size1); }
.jp-cnnlive-run { padding: 2px 0; border-bottom: var(--jp-border-width) solid var(--jp-border-color3); }
.jp-cnnlive-run-line { display: flex; align-items: center; gap: 5px; cursor: pointer; }
.jp-cnnlive-run-line input { margin: 0; }
.jp-cnnlive-run-name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.jp-cnnlive-run-kind { color: var(--jp-ui-font-color2); }
.jp-cnnlive-run-epochs-text { margin-left: auto; white-space: nowrap; color: var(--jp-ui-font-color2); }
.jp-cnnlive-run-detail { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2); padding-left: 20px; }
.jp-cnnlive-compare { margin-top: 8px; }
.jp-cnnlive-compare-head { display: flex; align-items: center; font-weight: 600; font-size: var(--jp-ui-font-size1); }
.jp-cnnlive-compare-title { flex: 1; }
.jp-cnnlive-legend { display: flex; flex-wrap: wrap; gap: 2px 10px; font-size: var(--jp-ui-font-size0); margin: 2px 0 4px; }
.jp-cnnlive-legend-item { display: inline-flex; align-items: center; gap: 3px; }
.jp-cnnlive-swatch { display: inline-block; width: 12px; height: 3px; }
.jp-cnnlive-legend-note { color: var(--jp-ui-font-color2); }
.jp-cnnlive-chart { margin-bottom: 6px; }
.jp-cnnlive-chart-title { font-size: var(--jp-ui-font-size0); font-weight: 600; }
.jp-cnnlive-chart-svg { width: 100%; height: 90px; background: var(--jp-layout-color2); display: block; }
.jp-cnnlive-chart-line { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.jp-cnnlive-chart-axis { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2); }
.jp-cnnlive-card-error { color: var(--jp-error-color1); font-size: var(--jp-ui-font-size0); margin-top: 4px; overflow-wrap: anywhere; }
.jp-cnnlive-notice { overflow-wrap: anywhere; }
.jp-cnnlive-runs-kind { font-size: var(--jp-ui-font-size0); max-width: 7em; }
.jp-cnnlive-run-name { display: flex; min-width: 0; }
.jp-cnnlive-run-name-head { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 1.5em; }
.jp-cnnlive-run-name-tail { white-space: nowrap; flex-shrink: 0; }
.jp-cnnlive-runs-folder { white-space: normal; overflow-wrap: anywhere; }
`,""]),r.d(n,{},{A:t})},314(e){e.exports=function(e){var n=[];return n.toString=function(){return this.map(function(n){var r="",o=void 0!==n[5];return n[4]&&(r+="@supports (".concat(n[4],") {")),n[2]&&(r+="@media ".concat(n[2]," {")),o&&(r+="@layer".concat(n[5].length>0?" ".concat(n[5]):""," {")),r+=e(n),o&&(r+="}"),n[2]&&(r+="}"),n[4]&&(r+="}"),r}).join("")},n.i=function(e,r,o,i,a){"string"==typeof e&&(e=[[null,e,void 0]]);var t={};if(o)for(var p=0;p<this.length;p++){var l=this[p][0];null!=l&&(t[l]=!0)}for(var c=0;c<e.length;c++){var s=[].concat(e[c]);o&&t[s[0]]||(void 0!==a&&(void 0===s[5]||(s[1]="@layer".concat(s[5].length>0?" ".concat(s[5]):""," {").concat(s[1],"}")),s[5]=a),r&&(s[2]&&(s[1]="@media ".concat(s[2]," {").concat(s[1],"}")),s[2]=r),i&&(s[4]?(s[1]="@supports (".concat(s[4],") {").concat(s[1],"}"),s[4]=i):s[4]="".concat(i)),n.push(s))}},n}},601(e){e.exports=function(e){return e[1]}},72(e){var n=[];function r(e){for(var r=-1,o=0;o<n.length;o++)if(n[o].identifier===e){r=o;break}return r}function o(e,o){for(var i={},a=[],t=0;t<e.length;t++){var p=e[t],l=o.base?p[0]+o.base:p[0],c=i[l]||0,s="".concat(l," ").concat(c);i[l]=c+1;var v=r(s),d={css:p[1],media:p[2],sourceMap:p[3],supports:p[4],layer:p[5]};if(-1!==v)n[v].references++,n[v].updater(d);else{var u=function(e,n){var r=n.domAPI(n);return r.update(e),function(n){n?(n.css!==e.css||n.media!==e.media||n.sourceMap!==e.sourceMap||n.supports!==e.supports||n.layer!==e.layer)&&r.update(e=n):r.remove()}}(d,o);o.byIndex=t,n.splice(t,0,{identifier:s,updater:u,references:1})}a.push(s)}return a}e.exports=function(e,i){var a=o(e=e||[],i=i||{});return function(e){e=e||[];for(var t=0;t<a.length;t++){var p=r(a[t]);n[p].references--}for(var l=o(e,i),c=0;c<a.length;c++){var s=r(a[c]);0===n[s].references&&(n[s].updater(),n.splice(s,1))}a=l}}},659(e){var n={};e.exports=function(e,r){var o=function(e){if(void 0===n[e]){var r=document.querySelector(e);if(window.HTMLIFrameElement&&r instanceof window.HTMLIFrameElement)try{r=r.contentDocument.head}catch(e){r=null}n[e]=r}return n[e]}(e);if(!o)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");o.appendChild(r)}},540(e){e.exports=function(e){var n=document.createElement("style");return e.setAttributes(n,e.attributes),e.insert(n,e.options),n}},56(e,n,r){e.exports=function(e){var n=r.nc;n&&e.setAttribute("nonce",n)}},825(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var n=e.insertStyleElement(e);return{update:function(r){var o,i,a;o="",r.supports&&(o+="@supports (".concat(r.supports,") {")),r.media&&(o+="@media ".concat(r.media," {")),(i=void 0!==r.layer)&&(o+="@layer".concat(r.layer.length>0?" ".concat(r.layer):""," {")),o+=r.css,i&&(o+="}"),r.media&&(o+="}"),r.supports&&(o+="}"),(a=r.sourceMap)&&"u">typeof btoa&&(o+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(a))))," */")),e.styleTagTransform(o,n,e.options)},remove:function(){var e;null===(e=n).parentNode||e.parentNode.removeChild(e)}}}},113(e){e.exports=function(e,n){if(n.styleSheet)n.styleSheet.cssText=e;else{for(;n.firstChild;)n.removeChild(n.firstChild);n.appendChild(document.createTextNode(e))}}},579(e,n,r){var o=r(72),i=r.n(o),a=r(825),t=r.n(a),p=r(659),l=r.n(p),c=r(56),s=r.n(c),v=r(540),d=r.n(v),u=r(113),f=r.n(u),j=r(475),g={};g.styleTagTransform=f(),g.setAttributes=s(),g.insert=l().bind(null,"head"),g.domAPI=t(),g.insertStyleElement=d(),i()(j.A,g),j.A&&j.A.locals&&j.A.locals}}]);