//! Domain types (parsed once at the edge) and the SQL that acts on them.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod balance;
pub mod catalog;
pub mod csv_io;
pub mod customers;
pub mod dashboard;
pub mod images;
pub mod invitations;
pub mod limits;
pub mod member;
pub mod members;
pub mod money;
pub mod money_ledger;
pub mod password;
pub mod purchases;
pub mod quotes;
pub mod reports;
pub mod sales;
pub mod settings;
pub mod shop;
pub mod stock;
pub mod suppliers;
pub mod text;

/// A list query fetches one row more than a page: keep the page, and whether more follow.
pub fn split_page<T>(mut rows: Vec<T>, page_size: i64) -> (Vec<T>, bool) {
    let more = rows.len() as i64 > page_size;
    rows.truncate(page_size as usize);
    (rows, more)
}

#[cfg(test)]
mod tests {
    #[test]
    fn split_page_keeps_the_page_and_says_if_more_follow() {
        assert_eq!(super::split_page(vec![1, 2, 3], 2), (vec![1, 2], true));
        assert_eq!(super::split_page(vec![1, 2], 2), (vec![1, 2], false));
    }
}
