//! The demo shop's own script: dataLayer and gtag, the Consent Mode banner, and the basket.
// It is loaded synchronously in <head>, before the Vitrine loader, so the consent default (and a
// remembered "granted") are in the dataLayer before anything reads it. Everything that touches the
// page waits for the DOM. The shop works the same with or without Vitrine.
(function () {
  'use strict';
  var w = window;
  var d = document;
  w.dataLayer = w.dataLayer || [];
  // Exactly Google's gtag: it pushes the arguments object, which Consent Mode readers expect.
  w.gtag = w.gtag || function () { w.dataLayer.push(arguments); };

  var CONSENT_COOKIE = 'shop_consent';
  var BASKET_KEY = 'shop_basket';

  function readCookie(name) {
    var parts = d.cookie ? d.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return null;
  }

  function remember(choice) {
    // Six months, like most consent tools; SameSite=Lax keeps it first-party.
    d.cookie = CONSENT_COOKIE + '=' + choice + '; path=/; max-age=15552000; SameSite=Lax';
  }

  w.gtag('consent', 'default', { personalization_storage: 'denied' });
  var choice = readCookie(CONSENT_COOKIE);
  if (choice === 'granted' || choice === 'denied') {
    // The visitor's remembered choice, as consent tools restate it on every page: one who accepted
    // must not start every page as "denied", and one who declined must stay declined even where a
    // stored profile records consent (Vitrine lets the stricter win).
    w.gtag('consent', 'update', { personalization_storage: choice });
  }

  // The basket lives in sessionStorage: it is the shop's own functional state, not tracking.
  function basketCount() {
    try { return parseInt(w.sessionStorage.getItem(BASKET_KEY) || '0', 10) || 0; } catch (e) { return 0; }
  }
  function setBasketCount(n) {
    try { w.sessionStorage.setItem(BASKET_KEY, String(n)); } catch (e) { /* private mode: count for this page only */ }
    showBasket(n);
  }
  function showBasket(n) {
    var badge = d.getElementById('basket-count');
    if (!badge) return;
    badge.textContent = String(n);
    badge.classList.toggle('has-items', n > 0);
  }

  function ready(fn) {
    if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', fn);
    else fn();
  }

  function recordedConsent() {
    var el = d.getElementById('vitrine-profile');
    if (!el) return false;
    try {
      var p = JSON.parse(el.textContent);
      return !!(p && p.consent && p.consent.personalization === true);
    } catch (e) {
      return false;
    }
  }

  ready(function () {
    showBasket(basketCount());

    var banner = d.getElementById('consent');
    function showBanner(show) { if (banner) banner.hidden = !show; }
    // A signed-in customer whose account records consent (the snapshot the edge handed over) has
    // already answered: no banner, as the personalized page they see says.
    if (!choice && !recordedConsent()) showBanner(true);

    d.addEventListener('click', function (ev) {
      var target = ev.target instanceof Element ? ev.target : null;
      if (!target) return;

      var consentButton = target.closest('[data-consent]');
      if (consentButton) {
        choice = consentButton.getAttribute('data-consent') === 'granted' ? 'granted' : 'denied';
        remember(choice);
        w.gtag('consent', 'update', { personalization_storage: choice });
        showBanner(false);
        return;
      }

      if (target.closest('[data-consent-open]')) {
        showBanner(true);
        return;
      }

      var add = target.closest('[data-add-to-cart]');
      if (add && w.shopItem) {
        var item = {};
        for (var k in w.shopItem) if (Object.prototype.hasOwnProperty.call(w.shopItem, k)) item[k] = w.shopItem[k];
        item.quantity = 1;
        w.dataLayer.push({ event: 'add_to_cart', ecommerce: { currency: w.shopCurrency || 'GBP', value: item.price, items: [item] } });
        setBasketCount(basketCount() + 1);
        var status = d.querySelector('.product-actions .added');
        if (status) {
          status.textContent = 'Added to your basket';
          setTimeout(function () { status.textContent = ''; }, 2500);
        }
      }
    });
  });
})();
