//! [`remote_addr`]: the peer address, wherever lookout runs the filter.

use std::convert::Infallible;
use std::net::SocketAddr;

use warp::Filter;

/// The peer address [`serve`](crate::serve()) and [`wrap`](crate::wrap())
/// hand to the filter (warp keeps its own address type private).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PeerAddr(pub(crate) SocketAddr);

/// The address of the connection's peer: `warp::addr::remote()` for a
/// filter lookout runs. Under [`serve`](crate::serve()) and inside
/// [`wrap`](crate::wrap()) warp's own filter sees no address (warp only
/// gives it to `warp::serve`'s direct filter, through a type it keeps
/// private); this one sees it there, and wherever `warp::addr::remote()`
/// does. `None` when no server recorded one (in-process tests).
///
/// ```
/// use warp::Filter;
///
/// let peer = warp::path!("peer")
///     .and(lookout_warp::remote_addr())
///     .map(|addr: Option<std::net::SocketAddr>| format!("{addr:?}"));
/// # let _ = peer;
/// ```
pub fn remote_addr() -> impl Filter<Extract = (Option<SocketAddr>,), Error = Infallible> + Copy {
    warp::addr::remote()
        .and(warp::ext::optional::<PeerAddr>())
        .map(|warp: Option<SocketAddr>, ours: Option<PeerAddr>| warp.or(ours.map(|peer| peer.0)))
}
