//! tower layer (feature `tower`): [`TraceBridgeLayer`] translates every request's trace headers in
//! place before the wrapped service sees them. It works with any service over [`http::Request`]:
//! axum, hyper (through `hyper-util`'s tower adapter), tonic.
//!
//! ```
//! use tower_layer::Layer;
//! use tracebridge::tower::TraceBridgeLayer;
//! use tracebridge::Config;
//!
//! let layer = TraceBridgeLayer::new(Config::default())?;
//! // Any `tower::Service<http::Request<B>>`; a closure-based service stands in here.
//! let service = layer.layer(Echo);
//! # #[derive(Clone)] struct Echo;
//! # impl<B> tower_service::Service<http::Request<B>> for Echo {
//! #     type Response = http::HeaderMap; type Error = core::convert::Infallible;
//! #     type Future = core::future::Ready<Result<http::HeaderMap, core::convert::Infallible>>;
//! #     fn poll_ready(&mut self, _: &mut core::task::Context<'_>) -> core::task::Poll<Result<(), Self::Error>> {
//! #         core::task::Poll::Ready(Ok(()))
//! #     }
//! #     fn call(&mut self, req: http::Request<B>) -> Self::Future { core::future::ready(Ok(req.headers().clone())) }
//! # }
//! # let _ = service;
//! # Ok::<(), tracebridge::translate::ConfigError>(())
//! ```
//!
//! The [`Report`] of each translation is added to the request's extensions, so a handler (or a
//! metrics layer further in) can count missing and conflicting contexts.
//!
//! New roots (`on_missing: new-root`, restarts) take their 24 random bytes from the operating system
//! (`getrandom`). If the operating system cannot provide them, the request passes through unchanged
//! and no report is attached: a trace id from a weak source would be worse than none.

use core::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use crate::translate::{Config, ConfigError, Report, Translator};

/// A [`Layer`] that wraps a service in [`TraceBridge`].
///
/// ```
/// use tracebridge::tower::TraceBridgeLayer;
/// use tracebridge::translate::{Config, FormatList, OnMissing};
/// use tracebridge::Format;
///
/// // Read every format, write W3C and B3 multi, start a root when nothing arrived.
/// let config = Config {
///     inject: FormatList::new(&[Format::W3c, Format::B3Multi]).unwrap_or(FormatList::ALL),
///     on_missing: OnMissing::NewRoot,
///     ..Config::default()
/// };
/// let layer = TraceBridgeLayer::new(config)?;
/// assert_eq!(layer.translator().config().on_missing, OnMissing::NewRoot);
/// # Ok::<(), tracebridge::translate::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceBridgeLayer {
    translator: Translator,
}

impl TraceBridgeLayer {
    /// A layer for `config` (checked as by [`Translator::new`]).
    ///
    /// ```
    /// # use tracebridge::tower::TraceBridgeLayer;
    /// # use tracebridge::Config;
    /// let mut config = Config::default();
    /// config.tracestate.max_len = 10; // below the W3C minimum of 512
    /// assert!(TraceBridgeLayer::new(config).is_err());
    /// ```
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Translator::new(config).map(Self::from_translator)
    }

    /// A layer for an existing translator.
    ///
    /// ```
    /// # use tracebridge::tower::TraceBridgeLayer;
    /// # use tracebridge::Translator;
    /// let layer = TraceBridgeLayer::from_translator(Translator::default());
    /// # let _ = layer;
    /// ```
    pub const fn from_translator(translator: Translator) -> Self {
        TraceBridgeLayer { translator }
    }

    /// The translator.
    ///
    /// ```
    /// # use tracebridge::tower::TraceBridgeLayer;
    /// # use tracebridge::Translator;
    /// let layer = TraceBridgeLayer::from_translator(Translator::default());
    /// assert_eq!(layer.translator(), &Translator::default());
    /// // `Default`: every format read, W3C written.
    /// assert_eq!(TraceBridgeLayer::default().translator(), layer.translator());
    /// ```
    pub const fn translator(&self) -> &Translator {
        &self.translator
    }
}

impl<S> Layer<S> for TraceBridgeLayer {
    type Service = TraceBridge<S>;

    fn layer(&self, inner: S) -> TraceBridge<S> {
        TraceBridge { inner, translator: self.translator }
    }
}

/// A service that translates the trace headers of each request, then calls `inner`.
///
/// Built by [`TraceBridgeLayer`]; see the [module docs](self) for an example.
#[derive(Debug, Clone, Copy)]
pub struct TraceBridge<S> {
    inner: S,
    translator: Translator,
}

impl<S> TraceBridge<S> {
    /// The wrapped service.
    ///
    /// ```
    /// # use tower_layer::Layer;
    /// # use tracebridge::tower::TraceBridgeLayer;
    /// # use tracebridge::Translator;
    /// let service = TraceBridgeLayer::from_translator(Translator::default()).layer(42u8);
    /// assert_eq!(*service.inner(), 42);
    /// ```
    pub const fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, consuming the wrapper.
    ///
    /// ```
    /// # use tower_layer::Layer;
    /// # use tracebridge::tower::TraceBridgeLayer;
    /// # use tracebridge::Translator;
    /// let service = TraceBridgeLayer::from_translator(Translator::default()).layer(42u8);
    /// assert_eq!(service.into_inner(), 42);
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<http::Request<B>> for TraceBridge<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        if let Some(report) = translate(&self.translator, req.headers_mut()) {
            req.extensions_mut().insert(report);
        }
        self.inner.call(req)
    }
}

/// Translate `headers` in place; `None` (and nothing changed) when a new root was needed and the
/// operating system had no randomness to give.
fn translate(translator: &Translator, headers: &mut http::HeaderMap) -> Option<Report> {
    let mut random_failed = false;
    let plan = translator.plan(&*headers, || {
        let mut bytes = [0u8; 24];
        random_failed = getrandom::fill(&mut bytes).is_err();
        bytes
    });
    if random_failed {
        return None;
    }
    plan.apply(headers);
    Some(*plan.report())
}
