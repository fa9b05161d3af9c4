"use strict";(self.rspackChunkcnnlive=self.rspackChunkcnnlive||[]).push([[232],{475(e,n,r){var t=r(601),o=r.n(t),a=r(314),i=(r.n(a))()(o());i.push([e.id,`.jp-cnnlive-panel {
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
.jp-cnnlive-metrics { font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); white-space: pre-wrap; }
.jp-cnnlive-spark { width: 100%; height: 28px; }
.jp-cnnlive-spark-line { fill: none; stroke: var(--jp-brand-color1); stroke-width: 1.5; }
.jp-cnnlive-figure { margin: 4px 0; }
.jp-cnnlive-image { max-width: 100%; image-rendering: pixelated; border: var(--jp-border-width) solid var(--jp-border-color2); }
.jp-cnnlive-caption { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0); }
.jp-cnnlive-log {
  max-height: 7em; overflow: auto; margin: 4px 0; padding: 4px;
  background: var(--jp-layout-color2); font-size: var(--jp-code-font-size);
}
.jp-cnnlive-buttons { display: flex; gap: 6px; margin-top: 4px; }
.jp-cnnlive-buttons button:focus-visible { outline: 2px solid var(--jp-brand-color1); }
`,""]),r.d(n,{},{A:i})},314(e){e.exports=function(e){var n=[];return n.toString=function(){return this.map(function(n){var r="",t=void 0!==n[5];return n[4]&&(r+="@supports (".concat(n[4],") {")),n[2]&&(r+="@media ".concat(n[2]," {")),t&&(r+="@layer".concat(n[5].length>0?" ".concat(n[5]):""," {")),r+=e(n),t&&(r+="}"),n[2]&&(r+="}"),n[4]&&(r+="}"),r}).join("")},n.i=function(e,r,t,o,a){"string"==typeof e&&(e=[[null,e,void 0]]);var i={};if(t)for(var c=0;c<this.length;c++){var p=this[c][0];null!=p&&(i[p]=!0)}for(var s=0;s<e.length;s++){var l=[].concat(e[s]);t&&i[l[0]]||(void 0!==a&&(void 0===l[5]||(l[1]="@layer".concat(l[5].length>0?" ".concat(l[5]):""," {").concat(l[1],"}")),l[5]=a),r&&(l[2]&&(l[1]="@media ".concat(l[2]," {").concat(l[1],"}")),l[2]=r),o&&(l[4]?(l[1]="@supports (".concat(l[4],") {").concat(l[1],"}"),l[4]=o):l[4]="".concat(o)),n.push(l))}},n}},601(e){e.exports=function(e){return e[1]}},72(e){var n=[];function r(e){for(var r=-1,t=0;t<n.length;t++)if(n[t].identifier===e){r=t;break}return r}function t(e,t){for(var o={},a=[],i=0;i<e.length;i++){var c=e[i],p=t.base?c[0]+t.base:c[0],s=o[p]||0,l="".concat(p," ").concat(s);o[p]=s+1;var u=r(l),d={css:c[1],media:c[2],sourceMap:c[3],supports:c[4],layer:c[5]};if(-1!==u)n[u].references++,n[u].updater(d);else{var v=function(e,n){var r=n.domAPI(n);return r.update(e),function(n){n?(n.css!==e.css||n.media!==e.media||n.sourceMap!==e.sourceMap||n.supports!==e.supports||n.layer!==e.layer)&&r.update(e=n):r.remove()}}(d,t);t.byIndex=i,n.splice(i,0,{identifier:l,updater:v,references:1})}a.push(l)}return a}e.exports=function(e,o){var a=t(e=e||[],o=o||{});return function(e){e=e||[];for(var i=0;i<a.length;i++){var c=r(a[i]);n[c].references--}for(var p=t(e,o),s=0;s<a.length;s++){var l=r(a[s]);0===n[l].references&&(n[l].updater(),n.splice(l,1))}a=p}}},659(e){var n={};e.exports=function(e,r){var t=function(e){if(void 0===n[e]){var r=document.querySelector(e);if(window.HTMLIFrameElement&&r instanceof window.HTMLIFrameElement)try{r=r.contentDocument.head}catch(e){r=null}n[e]=r}return n[e]}(e);if(!t)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");t.appendChild(r)}},540(e){e.exports=function(e){var n=document.createElement("style");return e.setAttributes(n,e.attributes),e.insert(n,e.options),n}},56(e,n,r){e.exports=function(e){var n=r.nc;n&&e.setAttribute("nonce",n)}},825(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var n=e.insertStyleElement(e);return{update:function(r){var t,o,a;t="",r.supports&&(t+="@supports (".concat(r.supports,") {")),r.media&&(t+="@media ".concat(r.media," {")),(o=void 0!==r.layer)&&(t+="@layer".concat(r.layer.length>0?" ".concat(r.layer):""," {")),t+=r.css,o&&(t+="}"),r.media&&(t+="}"),r.supports&&(t+="}"),(a=r.sourceMap)&&"u">typeof btoa&&(t+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(a))))," */")),e.styleTagTransform(t,n,e.options)},remove:function(){var e;null===(e=n).parentNode||e.parentNode.removeChild(e)}}}},113(e){e.exports=function(e,n){if(n.styleSheet)n.styleSheet.cssText=e;else{for(;n.firstChild;)n.removeChild(n.firstChild);n.appendChild(document.createTextNode(e))}}},579(e,n,r){var t=r(72),o=r.n(t),a=r(825),i=r.n(a),c=r(659),p=r.n(c),s=r(56),l=r.n(s),u=r(540),d=r.n(u),v=r(113),f=r.n(v),j=r(475),m={};m.styleTagTransform=f(),m.setAttributes=l(),m.insert=p().bind(null,"head"),m.domAPI=i(),m.insertStyleElement=d(),o()(j.A,m),j.A&&j.A.locals&&j.A.locals}}]);