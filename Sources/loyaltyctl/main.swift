print("loyaltyctl")
